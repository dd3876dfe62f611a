/**
 * The catalogue of every error the broker raises. Each failure kind has one class and one stable
 * `code` (`PB_ERR_<AREA>_<WHAT>`); context lives in fields, the cause in `{ cause }`. Tests and
 * callers match on `code`, never on the message text. (After fastify lib/errors.js and undici
 * lib/core/errors.js.)
 */

/** Every stable error code, for exhaustive checks and documentation. */
export type ErrorCode =
  | 'PB_ERR_INVALID_OPTION'
  | 'PB_ERR_FRAME_BAD_LENGTH'
  | 'PB_ERR_FRAME_HEADER_TOO_LONG'
  | 'PB_ERR_FRAME_TOO_LARGE'
  | 'PB_ERR_WS_PROTOCOL'
  | 'PB_ERR_PLUGIN_LOAD'
  | 'PB_ERR_PLUGIN_NOT_COMPONENT'
  | 'PB_ERR_PLUGIN_WORLD_MISMATCH'
  | 'PB_ERR_PLUGIN_WIT_VERSION'
  | 'PB_ERR_PLUGIN_FORBIDDEN_IMPORT'
  | 'PB_ERR_PLUGIN_START_FAILED'
  | 'PB_ERR_PLUGIN_TRAP'
  | 'PB_ERR_PLUGIN_TIMEOUT'
  | 'PB_ERR_PLUGIN_OUT_OF_FUEL'
  | 'PB_ERR_PLUGIN_BAD_POINTER'
  | 'PB_ERR_PLUGIN_BAD_ARGUMENT'
  | 'PB_ERR_PLUGIN_FAILED'
  | 'PB_ERR_BUILD_FAILED'
  | 'PB_ERR_BUILD_TOOLCHAIN_MISSING'
  | 'PB_ERR_LISTEN'
  | 'PB_ERR_CLUSTER_UNREACHABLE'
  | 'PB_ERR_CLUSTER_BAD_MESSAGE'
  | 'PB_ERR_CLUSTER_SEND_DROPPED'
  | 'PB_ERR_PROCESS_EXITED'
  | 'PB_ERR_ADMIN_UNAUTHORIZED'
  | 'PB_ERR_ADMIN_NOT_FOUND'
  | 'PB_ERR_ADMIN_METHOD_NOT_ALLOWED'
  | 'PB_ERR_ADMIN_BAD_REQUEST'
  | 'PB_ERR_ADMIN_BODY_TOO_LARGE'
  | 'PB_ERR_ADMIN_BUSY'
  | 'PB_ERR_ADMIN_CONFLICT'
  | 'PB_ERR_ADMIN_INTERNAL'
  | 'PB_ERR_METRICS_COLLECT'
  // Configuration and command line (host/config/, host/cli/): every one of these exits 2.
  | 'PB_ERR_UNKNOWN_OPTION'
  | 'PB_ERR_CONFIG_FILE'
  | 'PB_ERR_CONFIG_SYNTAX'
  | 'PB_ERR_USAGE'
  | 'PB_ERR_USAGE_UNKNOWN_FLAG'
  | 'PB_ERR_USAGE_UNKNOWN_COMMAND'
  | 'PB_ERR_USAGE_MISSING_COMMAND'
  | 'PB_ERR_USAGE_MISSING_FLAG'
  | 'PB_ERR_USAGE_MISSING_ARGUMENT'
  | 'PB_ERR_USAGE_EXTRA_ARGUMENT'
  | 'PB_ERR_INIT_DIR_NOT_EMPTY'
  | 'PB_ERR_TEST_SCRIPT_SYNTAX'
  | 'PB_ERR_REPLAY_SYNTAX'
  | 'PB_ERR_REPLAY_WORLD_MISMATCH'
  // `broker test` (host/cli/test.ts): the plugin did not do what the script or recording says (exit 1).
  | 'PB_ERR_TEST_MISMATCH'
  | 'PB_ERR_REPLAY_DIVERGED'
  // Printed by bin/broker.js itself when dist/ was never built (a checkout without `npm run build`).
  | 'PB_ERR_NOT_BUILT';

/** Base class of every broker error: a message plus a stable machine-readable `code`. */
export class BrokerError extends Error {
  readonly code: ErrorCode;
  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = new.target.name;
  }
}

/**
 * An option has a value outside its domain. `option` is its `BrokerOptions` name (`maxFrameBytes`);
 * the message names it the way the user wrote it (`subject`): `--max-frame-bytes`,
 * `PLUGBROKER_MAX_FRAME_BYTES`, `broker.yaml:3 max-frame-bytes:`, or `'maxFrameBytes' (--max-frame-bytes)`
 * for a library caller (host/config/resolve.ts).
 */
export class InvalidOptionError extends BrokerError {
  readonly option: string;
  readonly value: unknown;
  /** Where the value sits inside the option (`['logic', 'nodes', 1]`); empty for the whole value. */
  readonly path: readonly (string | number)[];
  constructor(option: string, value: unknown, expected: string, opts: { subject?: string; path?: readonly (string | number)[] } = {}) {
    super('PB_ERR_INVALID_OPTION', `${opts.subject ?? `'${option}'`} must be ${expected}, got ${formatValue(value)}`);
    this.option = option;
    this.value = value;
    this.path = opts.path ?? [];
  }
}

/**
 * The peer broke the framing protocol. The connection that produced it is closed with the
 * `protocol-error` reason; nothing else is affected.
 */
export class FrameError extends BrokerError {
  /** Bytes of the stream consumed before the error was detected (for logs). */
  readonly offset: number;
  constructor(code: ErrorCode, message: string, offset: number) {
    super(code, message);
    this.offset = offset;
  }
}

/** A length header contained something other than ASCII digits (an optional `\r` before `\n` aside). */
export class FrameBadLengthError extends FrameError {
  /** The offending byte value. */
  readonly byte: number;
  constructor(byte: number, offset: number) {
    super('PB_ERR_FRAME_BAD_LENGTH', `bad frame length header: unexpected byte 0x${byte.toString(16).padStart(2, '0')}`, offset);
    this.byte = byte;
  }
}

/** A length header had more digits than allowed before its newline. */
export class FrameHeaderTooLongError extends FrameError {
  readonly limit: number;
  constructor(limit: number, offset: number) {
    super('PB_ERR_FRAME_HEADER_TOO_LONG', `frame length header longer than ${limit} digits`, offset);
    this.limit = limit;
  }
}

/** A frame declared a body larger than `maxFrameBytes`; refused before any body byte was buffered. */
export class FrameTooLargeError extends FrameError {
  readonly limit: number;
  readonly declared: number;
  constructor(declared: number, limit: number, offset: number) {
    super('PB_ERR_FRAME_TOO_LARGE', `frame of ${declared} bytes exceeds maxFrameBytes (${limit})`, offset);
    this.limit = limit;
    this.declared = declared;
  }
}

/**
 * The peer broke the WebSocket protocol (a bad opcode, an unmasked client frame, invalid UTF-8 in a
 * text message, too many fragments, …). `ws` detected it and has already sent its RFC 6455 close
 * code (1002, 1007 or 1008); the connection closes with `protocol-error`.
 */
export class WsProtocolError extends FrameError {
  /** ws's own code for the error (`WS_ERR_INVALID_OPCODE`, …). */
  readonly wsCode: string;
  constructor(wsCode: string, message: string) {
    super('PB_ERR_WS_PROTOCOL', `WebSocket protocol error: ${message}`, 0);
    this.wsCode = wsCode;
  }
}

/** The plugin file could not be read or compiled. */
export class PluginLoadError extends BrokerError {
  readonly path: string;
  constructor(path: string, message: string, options?: { cause?: unknown }) {
    super('PB_ERR_PLUGIN_LOAD', message, options);
    this.path = path;
  }
}

/** The plugin file is WebAssembly but not a component (or not WebAssembly at all). */
export class PluginNotComponentError extends BrokerError {
  readonly path: string;
  constructor(path: string, message: string) {
    super('PB_ERR_PLUGIN_NOT_COMPONENT', message);
    this.path = path;
  }
}

/** The component does not implement the `plugbroker:plugin/plugin` world. */
export class PluginWorldMismatchError extends BrokerError {
  readonly path: string;
  constructor(path: string, message: string, options?: { cause?: unknown }) {
    super('PB_ERR_PLUGIN_WORLD_MISMATCH', message, options);
    this.path = path;
  }
}

/**
 * The component was built for another version of the `plugbroker:plugin` package than the one this
 * broker serves (its import modules name the version, `plugbroker:plugin/host@0.1.0`).
 */
export class PluginWitVersionError extends BrokerError {
  readonly path: string;
  /** The version the component was built for. */
  readonly found: string;
  /** The version this broker serves. */
  readonly expected: string;
  constructor(path: string, found: string, expected: string) {
    super(
      'PB_ERR_PLUGIN_WIT_VERSION',
      `${path} was built for plugbroker:plugin@${found}, but this broker serves plugbroker:plugin@${expected}: rebuild it with the current SDK (broker build)`,
    );
    this.path = path;
    this.found = found;
    this.expected = expected;
  }
}

/** The component imports something other than the `plugbroker:plugin` interfaces. */
export class PluginForbiddenImportError extends BrokerError {
  readonly path: string;
  readonly imports: readonly string[];
  constructor(path: string, imports: readonly string[]) {
    super('PB_ERR_PLUGIN_FORBIDDEN_IMPORT', `plugin imports what the broker does not offer: ${imports.join(', ')}`);
    this.path = path;
    this.imports = imports;
  }
}

/** The plugin's `start` export returned an error (or trapped): the broker refuses to serve. */
export class PluginStartError extends BrokerError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('PB_ERR_PLUGIN_START_FAILED', message, options);
  }
}

/** A plugin call trapped (unreachable, out-of-bounds access, stack overflow, …). */
export class PluginTrapError extends BrokerError {
  /** The export that was running. */
  readonly export: string;
  constructor(exportName: string, options?: { cause?: unknown }) {
    super('PB_ERR_PLUGIN_TRAP', `plugin trapped in ${exportName}: ${describeCause(options?.cause)}`, options);
    this.export = exportName;
  }
}

/** A plugin call ran past its CPU budget (worker isolation) and its worker was terminated. */
export class PluginTimeoutError extends BrokerError {
  /** The export that was running. */
  readonly export: string;
  /** The budget it exceeded, in ms. */
  readonly budgetMs: number;
  constructor(exportName: string, budgetMs: number) {
    super('PB_ERR_PLUGIN_TIMEOUT', `plugin call ${exportName} ran past its budget of ${budgetMs} ms; worker terminated`);
    this.export = exportName;
    this.budgetMs = budgetMs;
  }
}

/** A plugin call used up its fuel (`pluginCallFuel` steps) and was stopped by its own counter. */
export class PluginOutOfFuelError extends BrokerError {
  /** The export that was running. */
  readonly export: string;
  /** The fuel it had, in steps. */
  readonly fuel: number;
  constructor(exportName: string, fuel: number) {
    super('PB_ERR_PLUGIN_OUT_OF_FUEL', `plugin call ${exportName} used up its fuel of ${fuel} steps`);
    this.export = exportName;
    this.fuel = fuel;
  }
}

/**
 * The plugin handed the host a pointer/length outside its linear memory. Thrown *into* the plugin
 * from the host import, so it surfaces as the plugin's own trap.
 */
export class PluginBadPointerError extends BrokerError {
  readonly ptr: number;
  readonly len: number;
  readonly memoryBytes: number;
  constructor(ptr: number, len: number, memoryBytes: number) {
    super('PB_ERR_PLUGIN_BAD_POINTER', `plugin passed an out-of-bounds buffer (ptr ${ptr}, len ${len}, memory ${memoryBytes} bytes)`);
    this.ptr = ptr;
    this.len = len;
    this.memoryBytes = memoryBytes;
  }
}

/** The plugin passed a value outside its WIT type (an enum discriminant out of range). A trap of its own. */
export class PluginBadArgumentError extends BrokerError {
  readonly function: string;
  constructor(fn: string, message: string) {
    super('PB_ERR_PLUGIN_BAD_ARGUMENT', `plugin called ${fn} with ${message}`);
    this.function = fn;
  }
}

/** The plugin could not be brought back after a failure; the broker refuses new connections. */
export class PluginFailedError extends BrokerError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('PB_ERR_PLUGIN_FAILED', message, options);
  }
}

/** `broker build` failed at one of its steps. */
export class BuildError extends BrokerError {
  readonly step: string;
  constructor(step: string, message: string, options?: { cause?: unknown }) {
    super('PB_ERR_BUILD_FAILED', `${step}: ${message}`, options);
    this.step = step;
  }
}

/** A toolchain `broker build` needs is not installed. */
export class ToolchainMissingError extends BrokerError {
  readonly tool: string;
  constructor(tool: string, hint: string) {
    super('PB_ERR_BUILD_TOOLCHAIN_MISSING', `${tool} not found: ${hint}`);
    this.tool = tool;
  }
}

/** A listener could not bind. */
export class ListenError extends BrokerError {
  readonly host: string;
  readonly port: number;
  /** @param options.listener which listener, when not the client one (`admin listener, --admin-listen`). */
  constructor(host: string, port: number, options?: { cause?: unknown; listener?: string }) {
    const which = options?.listener === undefined ? '' : ` (${options.listener})`;
    super('PB_ERR_LISTEN', `cannot listen on ${host}:${port}${which}: ${describeCause(options?.cause)}`, options);
    this.host = host;
    this.port = port;
  }
}

/**
 * An admin API request was refused (issue #11). `status` is the HTTP status it is answered with;
 * the JSON body carries `code` and the message.
 */
export class AdminRequestError extends BrokerError {
  /** HTTP status: 400, 401, 404, 405, 409, 413, 429 or 503. */
  readonly status: number;
  /** Headers the answer carries (`Allow`, `WWW-Authenticate`, `Retry-After`). */
  readonly headers: Readonly<Record<string, string>>;
  constructor(code: ErrorCode, status: number, message: string, headers: Record<string, string> = {}) {
    super(code, message);
    this.status = status;
    this.headers = headers;
  }
}

// Configuration and command line: each of these is a usage error (exit 2), like InvalidOptionError.

/** The codes `broker` exits 2 for (a usage error); every other failure exits 1. */
export const USAGE_ERROR_CODES: ReadonlySet<ErrorCode> = new Set<ErrorCode>([
  'PB_ERR_INVALID_OPTION',
  'PB_ERR_UNKNOWN_OPTION',
  'PB_ERR_CONFIG_FILE',
  'PB_ERR_CONFIG_SYNTAX',
  'PB_ERR_USAGE',
  'PB_ERR_USAGE_UNKNOWN_FLAG',
  'PB_ERR_USAGE_UNKNOWN_COMMAND',
  'PB_ERR_USAGE_MISSING_COMMAND',
  'PB_ERR_USAGE_MISSING_FLAG',
  'PB_ERR_USAGE_MISSING_ARGUMENT',
  'PB_ERR_USAGE_EXTRA_ARGUMENT',
  'PB_ERR_INIT_DIR_NOT_EMPTY',
  'PB_ERR_TEST_SCRIPT_SYNTAX',
  'PB_ERR_REPLAY_SYNTAX',
  'PB_ERR_REPLAY_WORLD_MISMATCH',
]);

/** A name that is no option: a `BrokerOptions` field, a config-file key or a `PLUGBROKER_*` variable (typos are errors). */
export class UnknownOptionError extends BrokerError {
  /** The name as written. */
  readonly option: string;
  /** The closest known name, if one is close. */
  readonly suggestion: string | undefined;
  constructor(option: string, message: string, suggestion?: string) {
    super('PB_ERR_UNKNOWN_OPTION', suggestion === undefined ? message : `${message} (did you mean ${suggestion}?)`);
    this.option = option;
    this.suggestion = suggestion;
  }
}

/** A config file could not be read (`PB_ERR_CONFIG_FILE`) or is not a YAML/JSON map (`PB_ERR_CONFIG_SYNTAX`). */
export class ConfigFileError extends BrokerError {
  readonly file: string;
  /** 1-based line of the problem, when known. */
  readonly line: number | undefined;
  constructor(code: 'PB_ERR_CONFIG_FILE' | 'PB_ERR_CONFIG_SYNTAX', file: string, line: number | undefined, message: string, options?: { cause?: unknown }) {
    super(code, `${file}${line === undefined ? '' : `:${line}`}: ${message}`, options);
    this.file = file;
    this.line = line;
  }
}

/** The command line is wrong: an unknown flag or command, a missing argument or required flag. */
export class UsageError extends BrokerError {
  constructor(
    code:
      | 'PB_ERR_USAGE'
      | 'PB_ERR_USAGE_UNKNOWN_FLAG'
      | 'PB_ERR_USAGE_UNKNOWN_COMMAND'
      | 'PB_ERR_USAGE_MISSING_COMMAND'
      | 'PB_ERR_USAGE_MISSING_FLAG'
      | 'PB_ERR_USAGE_MISSING_ARGUMENT'
      | 'PB_ERR_USAGE_EXTRA_ARGUMENT'
      | 'PB_ERR_INIT_DIR_NOT_EMPTY',
    message: string,
  ) {
    super(code, message);
  }
}

/** Several configuration errors found at once; `broker` prints one line for each. Code and message are the first one's. */
export class OptionErrors extends BrokerError {
  readonly errors: readonly BrokerError[];
  constructor(errors: readonly BrokerError[]) {
    super(errors[0].code, errors[0].message);
    this.errors = errors;
  }
}

// broker test (#13) ------------------------------------------------------------------------------

/**
 * A session script (`broker test <session.yaml>`) or a recording (`--replay <file.jsonl>`) that does
 * not parse or does not follow its format: the message starts with `file:line`. Exit 2.
 */
export class TestInputError extends BrokerError {
  readonly file: string;
  /** 1-based line of the problem, when known. */
  readonly line: number | undefined;
  constructor(
    code: 'PB_ERR_TEST_SCRIPT_SYNTAX' | 'PB_ERR_REPLAY_SYNTAX',
    file: string,
    line: number | undefined,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(code, `${file}${line === undefined ? '' : `:${line}`}: ${message}`, options);
    this.file = file;
    this.line = line;
  }
}

/** A recording made with a plugin of one world replayed against a plugin of another (exit 2). */
export class ReplayWorldError extends BrokerError {
  readonly recordedWorld: string;
  readonly pluginWorld: string;
  constructor(file: string, recordedWorld: string, pluginWorld: string) {
    super('PB_ERR_REPLAY_WORLD_MISMATCH', `${file} was recorded with a plugin of world ${recordedWorld}; this plugin is of world ${pluginWorld}`);
    this.recordedWorld = recordedWorld;
    this.pluginWorld = pluginWorld;
  }
}

/**
 * The plugin did not do what a session script expects (`PB_ERR_TEST_MISMATCH`) or what the recorded
 * plugin did (`PB_ERR_REPLAY_DIVERGED`). The first line of the message is `file:line what`; the lines
 * after it are the readable diff. Exit 1.
 */
export class TestMismatchError extends BrokerError {
  readonly file: string;
  readonly line: number | undefined;
  /** The diff (or the detail), without the summary line. */
  readonly diff: string;
  constructor(code: 'PB_ERR_TEST_MISMATCH' | 'PB_ERR_REPLAY_DIVERGED', file: string, line: number | undefined, summary: string, diff: string) {
    super(code, `${file}${line === undefined ? '' : `:${line}`}: ${summary}${diff === '' ? '' : `\n${diff}`}`);
    this.file = file;
    this.line = line;
    this.diff = diff;
  }
}

// Cluster (#12) ----------------------------------------------------------------------------------

/**
 * No NATS server of `--cluster` could be reached (at start, or after losing the connection). Not
 * fatal: the broker serves its local clients and keeps reconnecting (logged with this code).
 */
export class ClusterUnreachableError extends BrokerError {
  readonly servers: readonly string[];
  constructor(servers: readonly string[], options?: { cause?: unknown }) {
    super('PB_ERR_CLUSTER_UNREACHABLE', `no NATS server of --cluster reachable (${servers.join(', ')}): serving local clients, reconnecting`, options);
    this.servers = servers;
  }
}

/** A message on one of the cluster's subjects that this broker cannot use; it is dropped and counted. */
export class ClusterMessageError extends BrokerError {
  /** What kind of message the subject carries (`presence`, `members`, `group`, `channel`, …). */
  readonly kind: string;
  constructor(kind: string, reason: string) {
    super('PB_ERR_CLUSTER_BAD_MESSAGE', `malformed cluster ${kind} message: ${reason}`);
    this.kind = kind;
  }
}

/** Cross-node sends were dropped (NATS unreachable, or too much unacknowledged); logged with a count. */
export class ClusterSendDroppedError extends BrokerError {
  readonly dropped: number;
  readonly reason: string;
  constructor(dropped: number, reason: string) {
    super('PB_ERR_CLUSTER_SEND_DROPPED', `${dropped} cross-node send(s) dropped: ${reason}`);
    this.dropped = dropped;
    this.reason = reason;
  }
}

/**
 * A broker process of `--processes` exited without being asked to: the primary restarts it (logged),
 * or, for the first process exiting before it listened, stops and exits 1.
 */
export class ProcessExitedError extends BrokerError {
  readonly index: number;
  readonly exitCode: number | null;
  readonly signal: string | null;
  constructor(index: number, exitCode: number | null, signal: string | null, what = 'restarting it') {
    super('PB_ERR_PROCESS_EXITED', `broker process ${index} exited (${signal ?? `code ${exitCode}`}) ${what}`);
    this.index = index;
    this.exitCode = exitCode;
    this.signal = signal;
  }
}

function formatValue(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (value !== null && typeof value === 'object') {
    try {
      return JSON.stringify(value);
    } catch {
      return String(value);
    }
  }
  return String(value);
}

function describeCause(cause: unknown): string {
  return cause instanceof Error ? cause.message : String(cause);
}
