/**
 * The broker's pino logger: one JSON line per event on stdout, pretty-printed when stdout is a
 * terminal. Child loggers carry `connId`, `remote` and `plugin` fields.
 */
import { pino, type Logger } from 'pino';
import pretty from 'pino-pretty';
import type { LogLevelName } from './config.js';

/** Options of `createLogger`. */
export interface LoggerOptions {
  level: LogLevelName;
  /** Pretty output for humans. Default: when stdout is a TTY. */
  pretty?: boolean;
}

/** Creates the root logger. */
export function createLogger(opts: LoggerOptions): Logger {
  const base = { level: opts.level, base: { pid: process.pid } };
  if (opts.pretty ?? process.stdout.isTTY === true) {
    return pino(base, pretty({ colorize: true, translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname', sync: true }));
  }
  return pino(base, pino.destination({ dest: 1, sync: true }));
}
