import type { FastifyServerOptions } from 'fastify';
import pretty from 'pino-pretty';
import type { Config } from './config.js';

/**
 * The server's pino options. JSON lines by default (collectors parse them); `pretty` (chosen by
 * FACEREC_LOG_FORMAT, or by a terminal on stdout) writes pino-pretty's one-line-per-event text
 * through a stream in this thread, so no transport worker is started and nothing is lost when
 * the process exits right after its last line (`sync`).
 */
export function loggerOptions(config: Pick<Config, 'logLevel' | 'logFormat'>): NonNullable<FastifyServerOptions['logger']> {
  if (config.logFormat === 'json') return { level: config.logLevel };
  return {
    level: config.logLevel,
    stream: pretty({ sync: true, translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname', singleLine: false }),
  };
}
