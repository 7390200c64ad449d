import { createContext, useCallback, useContext, useMemo, useState, type ReactNode } from 'react';
import { FaceApi, type Keys } from '../api/client';

/**
 * Keys live in sessionStorage: they survive a reload but not closing the tab, and are never sent
 * anywhere but the API's Authorization header.
 */
const STORAGE_KEY = 'facerec.console.keys';

function loadKeys(): Keys | null {
  try {
    const parsed = JSON.parse(sessionStorage.getItem(STORAGE_KEY) ?? 'null') as Partial<Keys> | null;
    return parsed?.appKey && parsed.secretKey ? { appKey: parsed.appKey, secretKey: parsed.secretKey } : null;
  } catch {
    return null;
  }
}

interface KeysState {
  keys: Keys | null;
  save(keys: Keys): void;
  forget(): void;
}

const KeysContext = createContext<KeysState | null>(null);

export function KeysProvider({ children }: { children: ReactNode }) {
  const [keys, setKeys] = useState<Keys | null>(loadKeys);
  const save = useCallback((k: Keys) => {
    sessionStorage.setItem(STORAGE_KEY, JSON.stringify(k));
    setKeys(k);
  }, []);
  const forget = useCallback(() => {
    sessionStorage.removeItem(STORAGE_KEY);
    setKeys(null);
  }, []);
  const value = useMemo(() => ({ keys, save, forget }), [keys, save, forget]);
  return <KeysContext.Provider value={value}>{children}</KeysContext.Provider>;
}

export function useKeys(): KeysState {
  const state = useContext(KeysContext);
  if (!state) throw new Error('useKeys outside KeysProvider');
  return state;
}

/** The API client for the saved keys; pages that use it are only shown once keys are saved. */
export function useApi(): FaceApi {
  const { keys } = useKeys();
  if (!keys) throw new Error('useApi before keys were entered');
  return useMemo(() => new FaceApi(keys), [keys]);
}
