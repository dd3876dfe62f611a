/**
 * What both builds export besides `BrokerClient`: event and option types, close reasons, errors and
 * the pure helpers (framing, backoff) for callers that want them.
 */
export type { BrokerClientEvents, ClientState, ConnectedEvent, DisconnectedEvent, ReconnectingEvent } from './client.js';
export type { BrokerClientOptions } from './options.js';
export { CLIENT_DEFAULTS } from './options.js';
export { DEFAULT_BACKOFF, backoffCeilingMs, backoffDelayMs, type BackoffPolicy } from './backoff.js';
export {
  CLOSE_REASONS,
  CLOSE_CODE_BASE,
  PROTOCOL_ERROR_CLOSE_CODES,
  TERMINAL_REASONS,
  closeCodeForReason,
  reasonFromCloseCode,
  isCloseReason,
  type CloseReason,
} from './close-reason.js';
export * from './errors.js';
export { parseBrokerUrl, type BrokerTarget, type TransportKind } from './url.js';
export { DecimalDecoder, encodeDecimalFrame } from './framing/decimal.js';
export { BinaryDecoder, encodeBinaryFrame } from './framing/binary.js';
export type { StreamDecoder, StreamFraming, FrameHandler } from './framing/stream-framing.js';
