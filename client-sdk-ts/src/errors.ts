/**
 * The catalogue of every error the client raises. Each failure kind has one class and one stable
 * `code`; context lives in fields, the cause in `{ cause }`. Match on `code`, never on the message.
 * Framing errors use the broker's codes (`PB_ERR_FRAME_*`): it is the same protocol, broken the same
 * way; everything that only a client can hit is `PB_ERR_CLIENT_*`.
 */

/** Every stable error code of the client. */
export type ClientErrorCode =
  | 'PB_ERR_CLIENT_INVALID_URL'
  | 'PB_ERR_CLIENT_INVALID_OPTION'
  | 'PB_ERR_CLIENT_UNSUPPORTED_TRANSPORT'
  | 'PB_ERR_CLIENT_CONNECT_FAILED'
  | 'PB_ERR_CLIENT_CONNECT_TIMEOUT'
  | 'PB_ERR_CLIENT_IDLE_TIMEOUT'
  | 'PB_ERR_CLIENT_CLOSED'
  | 'PB_ERR_FRAME_BAD_LENGTH'
  | 'PB_ERR_FRAME_HEADER_TOO_LONG'
  | 'PB_ERR_FRAME_TOO_LARGE';

/** Base class of every client error: a message plus a stable machine-readable `code`. */
export class ClientError extends Error {
  readonly code: ClientErrorCode;
  constructor(code: ClientErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = new.target.name;
  }
}

/** The URL given to `new BrokerClient(url)` is not one the client can connect to. */
export class InvalidUrlError extends ClientError {
  readonly url: string;
  constructor(url: string, problem: string) {
    super('PB_ERR_CLIENT_INVALID_URL', `invalid broker URL ${JSON.stringify(url)}: ${problem}`);
    this.url = url;
  }
}

/** An option of `new BrokerClient(url, options)` is outside its domain. */
export class InvalidOptionError extends ClientError {
  readonly option: string;
  readonly value: unknown;
  constructor(option: string, value: unknown, expected: string) {
    super('PB_ERR_CLIENT_INVALID_OPTION', `'${option}' must be ${expected}, got ${formatValue(value)}`);
    this.option = option;
    this.value = value;
  }
}

/** The URL names a transport this build cannot open (`tcp://` or `tls://` in a browser). */
export class UnsupportedTransportError extends ClientError {
  readonly scheme: string;
  constructor(scheme: string, where: string) {
    super('PB_ERR_CLIENT_UNSUPPORTED_TRANSPORT', `${scheme}// is not available in ${where}: use ws:// or wss://`);
    this.scheme = scheme;
  }
}

/** The transport could not be opened (refused, DNS, TLS handshake, HTTP upgrade refused…). */
export class ConnectFailedError extends ClientError {
  constructor(url: string, options?: { cause?: unknown }) {
    const detail = options?.cause instanceof Error ? `: ${options.cause.message}` : '';
    super('PB_ERR_CLIENT_CONNECT_FAILED', `cannot connect to ${url}${detail}`, options);
  }
}

/** The transport did not open within `connectTimeoutMs`. */
export class ConnectTimeoutError extends ClientError {
  readonly timeoutMs: number;
  constructor(url: string, timeoutMs: number) {
    super('PB_ERR_CLIENT_CONNECT_TIMEOUT', `connecting to ${url} took longer than ${timeoutMs} ms`);
    this.timeoutMs = timeoutMs;
  }
}

/** Nothing arrived from the broker (not even a heartbeat) for `idleTimeoutMs`. */
export class IdleTimeoutError extends ClientError {
  readonly timeoutMs: number;
  constructor(timeoutMs: number) {
    super('PB_ERR_CLIENT_IDLE_TIMEOUT', `no data from the broker for ${timeoutMs} ms`);
    this.timeoutMs = timeoutMs;
  }
}

/** The connection ended (the broker closed it or it was lost), carrying what the transport said. */
export class ClosedError extends ClientError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('PB_ERR_CLIENT_CLOSED', message, options);
  }
}

/** The broker's byte stream broke the framing (`tcp://`/`tls://` only). */
export class FrameError extends ClientError {
  /** Bytes of the stream consumed before the error was detected. */
  readonly offset: number;
  constructor(code: 'PB_ERR_FRAME_BAD_LENGTH' | 'PB_ERR_FRAME_HEADER_TOO_LONG' | 'PB_ERR_FRAME_TOO_LARGE', message: string, offset: number) {
    super(code, message);
    this.offset = offset;
  }
}

/** A decimal length header contained something other than ASCII digits. */
export class FrameBadLengthError extends FrameError {
  readonly byte: number;
  constructor(byte: number, offset: number) {
    super('PB_ERR_FRAME_BAD_LENGTH', `bad frame length header: unexpected byte 0x${byte.toString(16).padStart(2, '0')}`, offset);
    this.byte = byte;
  }
}

/** A decimal length header had more digits than allowed. */
export class FrameHeaderTooLongError extends FrameError {
  readonly limit: number;
  constructor(limit: number, offset: number) {
    super('PB_ERR_FRAME_HEADER_TOO_LONG', `frame length header longer than ${limit} digits`, offset);
    this.limit = limit;
  }
}

/** A declared frame length is above the client's `maxFrameBytes`. */
export class FrameTooLargeError extends FrameError {
  readonly length: number;
  readonly limit: number;
  constructor(length: number, limit: number, offset: number) {
    super('PB_ERR_FRAME_TOO_LARGE', `frame of ${length} bytes is above the limit of ${limit} bytes`, offset);
    this.length = length;
    this.limit = limit;
  }
}

function formatValue(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'function') return 'a function';
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}
