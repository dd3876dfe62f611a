// `log`: plugin log lines, written by the broker tagged with the plugin's name.

import { log as hostLog } from "./abi/imports";
import { LogLevel } from "./types";

/**
 * Writes plugin log lines through the broker. Strings are passed as UTF-16 without a copy;
 * the broker cuts messages longer than 4096 bytes.
 * Not callable from top-level code (module initialisation): log from `Plugin.start` onwards.
 */
export namespace log {
  /** Writes `message` at `level`. */
  export function write(level: LogLevel, message: string): void {
    hostLog(level, changetype<usize>(message), <usize>message.length);
  }
  /** Writes `message` at `LogLevel.Trace`. */
  export function trace(message: string): void {
    write(LogLevel.Trace, message);
  }
  /** Writes `message` at `LogLevel.Debug`. */
  export function debug(message: string): void {
    write(LogLevel.Debug, message);
  }
  /** Writes `message` at `LogLevel.Info`. */
  export function info(message: string): void {
    write(LogLevel.Info, message);
  }
  /** Writes `message` at `LogLevel.Warn`. */
  export function warn(message: string): void {
    write(LogLevel.Warn, message);
  }
  /** Writes `message` at `LogLevel.Error`. */
  export function error(message: string): void {
    write(LogLevel.Error, message);
  }
}
