import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './App';
import { KeysProvider } from './session/keys';
import './styles.css';

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <KeysProvider>
      <App />
    </KeysProvider>
  </StrictMode>,
);
