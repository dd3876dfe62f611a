//! The types of WIT interface `types`, with their discriminants in WIT order.

use core::fmt;

/// Why a channel ended (WIT `close-reason`); passed to [`Plugin::on_broken`](crate::Plugin::on_broken).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
#[repr(u8)]
pub enum CloseReason {
    /// The peer closed the connection, or it failed (reset, network error).
    PeerClosed = 0,
    /// The peer broke the framing protocol.
    ProtocolError = 1,
    /// The plugin called [`Channel::close`](crate::Channel::close).
    ClosedByPlugin = 2,
    /// [`Plugin::on_connect`](crate::Plugin::on_connect) returned false.
    RefusedByPlugin = 3,
    /// The peer sent nothing for longer than the idle timeout.
    HeartbeatTimeout = 4,
    /// The plugin did not authenticate the channel before the auth deadline.
    AuthTimeout = 5,
    /// The peer exceeded its frame or byte rate.
    RateLimited = 6,
    /// The peer did not read and its outbound queue overflowed.
    SlowConsumer = 7,
    /// A plugin call about this channel trapped or exceeded its budget.
    PluginFailed = 8,
    /// The broker is shutting down.
    Shutdown = 9,
    /// An operator closed the channel through the broker's admin API.
    ClosedByOperator = 10,
}

impl CloseReason {
    /// The reason with WIT discriminant `value`, if there is one.
    pub fn from_u32(value: u32) -> Option<CloseReason> {
        use CloseReason::*;
        Some(match value {
            0 => PeerClosed,
            1 => ProtocolError,
            2 => ClosedByPlugin,
            3 => RefusedByPlugin,
            4 => HeartbeatTimeout,
            5 => AuthTimeout,
            6 => RateLimited,
            7 => SlowConsumer,
            8 => PluginFailed,
            9 => Shutdown,
            10 => ClosedByOperator,
            _ => return None,
        })
    }

    /// The WIT name (`peer-closed`, `shutdown`, …), for log lines.
    pub fn name(self) -> &'static str {
        use CloseReason::*;
        match self {
            PeerClosed => "peer-closed",
            ProtocolError => "protocol-error",
            ClosedByPlugin => "closed-by-plugin",
            RefusedByPlugin => "refused-by-plugin",
            HeartbeatTimeout => "heartbeat-timeout",
            AuthTimeout => "auth-timeout",
            RateLimited => "rate-limited",
            SlowConsumer => "slow-consumer",
            PluginFailed => "plugin-failed",
            Shutdown => "shutdown",
            ClosedByOperator => "closed-by-operator",
        }
    }
}

impl fmt::Display for CloseReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Severity of a log line (WIT `log-level`).
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug)]
#[repr(u8)]
pub enum LogLevel {
    Trace = 0,
    Debug = 1,
    Info = 2,
    Warn = 3,
    Error = 4,
}

/// How the peer is connected (WIT `transport-kind`).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
#[repr(u8)]
pub enum TransportKind {
    /// TCP, in clear or over TLS (see [`PeerInfo::secure`]), with length-prefixed frames.
    Tcp = 0,
    /// WebSocket; one WebSocket message is one frame.
    Websocket = 1,
}

/// Who is on the other end of a new channel (WIT `peer-info`), lent for the
/// [`Plugin::on_connect`](crate::Plugin::on_connect) call.
#[derive(Clone, Copy, Debug)]
pub struct PeerInfo<'a> {
    /// The peer's IP address as text (`127.0.0.1`, `::1`).
    pub address: &'a str,
    /// The peer's TCP port.
    pub port: u16,
    /// The transport the peer uses.
    pub transport: TransportKind,
    /// True when the connection is encrypted (a `tls://` or `wss://` listener).
    pub secure: bool,
    /// True when the connection was already open and this fresh instance (after a trap, or a new
    /// plugin version) is told about it before its next message: state kept by the previous
    /// instance is gone, except the channel data ([`Channel::get_data`](crate::Channel::get_data)).
    pub resumed: bool,
}
