import type { Command } from 'commander';
import { configFrom, globals } from '../session.js';

export function addServeCommand(program: Command): void {
  program
    .command('serve')
    .description('start the HTTP API (same as npm start); settings come from the environment, --data-dir overrides FACEREC_DATA_DIR')
    .action(async (_o: object, cmd: Command) => {
      // Imported on use: the server pulls in the engine, which other commands may not need.
      const { serve } = await import('../../serve.js');
      await serve(configFrom(globals(cmd)));
    });
}
