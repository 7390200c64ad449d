// `npm start`: the service with settings from the environment (see README).
import { loadConfig } from './config.js';
import { serve } from './serve.js';

serve(loadConfig()).catch((e) => {
  console.error(`facerec failed to start: ${(e as Error).message}`);
  process.exit(1);
});
