/**
 * Why the broker closed a connection, as the WIT `close-reason` enum names it
 * (`wit/plugin.wit`, package `plugbroker:plugin@0.2.0`). Over `ws://` and `wss://` the broker sends
 * it as the WebSocket close code `4000 + discriminant`; `tcp://` and `tls://` carry no reason.
 */

/** `close-reason` in WIT order: the index is the discriminant, so `4000 + index` is the close code. */
export const CLOSE_REASONS = [
  'peer-closed',
  'protocol-error',
  'closed-by-plugin',
  'refused-by-plugin',
  'heartbeat-timeout',
  'auth-timeout',
  'rate-limited',
  'slow-consumer',
  'plugin-failed',
  'shutdown',
  'closed-by-operator',
] as const;

/** A broker close reason. */
export type CloseReason = (typeof CLOSE_REASONS)[number];

/** First WebSocket close code of the broker's range (4000–4099, private use per RFC 6455 §7.4.2). */
export const CLOSE_CODE_BASE = 4000;
/** Last code of the range the broker reserves for close reasons. */
export const CLOSE_CODE_MAX = 4099;

/**
 * Reasons after which reconnecting cannot help, so the client does not: the plugin refused this
 * client, the client did not authenticate in time, or the client broke the protocol. Each would
 * happen again on the next attempt with the same URL and the same first frames.
 */
export const TERMINAL_REASONS: readonly CloseReason[] = Object.freeze(['refused-by-plugin', 'auth-timeout', 'protocol-error']);

/**
 * RFC 6455 §7.4.1 codes with which the broker's WebSocket library (`ws`) answers a client that broke
 * the protocol, before the broker could send 4001: 1002 protocol error, 1007 invalid UTF-8 in a
 * text message, 1009 message above `--max-frame-bytes`. Over TCP the same faults close the
 * connection with `protocol-error`, so they mean `protocol-error` here too.
 */
export const PROTOCOL_ERROR_CLOSE_CODES: readonly number[] = Object.freeze([1002, 1007, 1009]);

/**
 * The close reason a WebSocket close code stands for: 4000–4010 by the broker's table, 1002, 1007
 * and 1009 as `protocol-error`; undefined for any other code (1000 normal closure, 1006 connection
 * lost, a code from a newer broker…).
 */
export function reasonFromCloseCode(code: number): CloseReason | undefined {
  if (PROTOCOL_ERROR_CLOSE_CODES.includes(code)) return 'protocol-error';
  if (!Number.isInteger(code) || code < CLOSE_CODE_BASE) return undefined;
  return CLOSE_REASONS[code - CLOSE_CODE_BASE];
}

/** The WebSocket close code the broker sends for `reason`. */
export function closeCodeForReason(reason: CloseReason): number {
  return CLOSE_CODE_BASE + CLOSE_REASONS.indexOf(reason);
}

/** True when `value` names a close reason. */
export function isCloseReason(value: unknown): value is CloseReason {
  return typeof value === 'string' && (CLOSE_REASONS as readonly string[]).includes(value);
}
