// The shared types of interface `types` in wit/plugin.wit. Enum members are in WIT order: their
// values are the canonical-ABI discriminants.

/** Why a channel ended; passed to `Plugin.onBroken` (WIT `close-reason`). */
export enum CloseReason {
  /** The peer closed the connection, or it failed. */
  PeerClosed = 0,
  /** The peer broke the framing protocol. */
  ProtocolError = 1,
  /** The plugin called `Channel.close()`. */
  ClosedByPlugin = 2,
  /** `Plugin.onConnect` returned false. */
  RefusedByPlugin = 3,
  /** The peer sent nothing for longer than the idle timeout. */
  HeartbeatTimeout = 4,
  /** The plugin did not authenticate the channel before the auth deadline. */
  AuthTimeout = 5,
  /** The peer exceeded its frame or byte rate. */
  RateLimited = 6,
  /** The peer did not read and its outbound queue overflowed. */
  SlowConsumer = 7,
  /** A plugin call about this channel trapped or exceeded its budget. */
  PluginFailed = 8,
  /** The broker is shutting down. */
  Shutdown = 9,
  /** An operator closed the channel through the broker's admin API. */
  ClosedByOperator = 10,
}

/** Number of `CloseReason` cases. */
// @ts-ignore: decorator
@inline export const CLOSE_REASON_COUNT: u32 = 11;

/** Severity of a log line (WIT `log-level`). */
export enum LogLevel {
  Trace = 0,
  Debug = 1,
  Info = 2,
  Warn = 3,
  Error = 4,
}

/** How the peer is connected (WIT `transport-kind`). */
export enum TransportKind {
  /** TCP (in clear or over TLS: see `PeerInfo.secure`) speaking length-prefixed frames. */
  Tcp = 0,
  /** WebSocket; one WebSocket message is one frame. */
  Websocket = 1,
}

/** Number of `TransportKind` cases. */
// @ts-ignore: decorator
@inline export const TRANSPORT_KIND_COUNT: u32 = 2;

/** Who is on the other end of a new channel (WIT `peer-info`). */
@final
export class PeerInfo {
  constructor(
    /** The peer's IP address as text (`127.0.0.1`, `::1`). */
    public readonly address: string,
    /** The peer's TCP port. */
    public readonly port: u16,
    /** The transport the peer uses. */
    public readonly transport: TransportKind,
    /** True when the connection is encrypted (a `tls://` or `wss://` listener). */
    public readonly secure: bool,
    /**
     * True when the connection was already open and a fresh instance (after a trap, or a new
     * plugin version) is being told about it before its next message. State kept for the channel
     * by the previous instance is gone, except its channel data (`Channel.getData()`): rebuild
     * it from there, or return false to close the channel.
     */
    public readonly resumed: bool,
  ) {}
}

/** The WIT (kebab-case) name of a close reason, for log lines: `peer-closed`, `shutdown`, … */
export function closeReasonName(reason: CloseReason): string {
  switch (reason) {
    case CloseReason.PeerClosed: return "peer-closed";
    case CloseReason.ProtocolError: return "protocol-error";
    case CloseReason.ClosedByPlugin: return "closed-by-plugin";
    case CloseReason.RefusedByPlugin: return "refused-by-plugin";
    case CloseReason.HeartbeatTimeout: return "heartbeat-timeout";
    case CloseReason.AuthTimeout: return "auth-timeout";
    case CloseReason.RateLimited: return "rate-limited";
    case CloseReason.SlowConsumer: return "slow-consumer";
    case CloseReason.PluginFailed: return "plugin-failed";
    case CloseReason.Shutdown: return "shutdown";
    case CloseReason.ClosedByOperator: return "closed-by-operator";
    default: return "unknown";
  }
}
