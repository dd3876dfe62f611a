//! [`Channel`]: one peer connection, as plugin code sees it.

use crate::abi;
use alloc::vec::Vec;
use core::fmt;

/// A connection to one peer (WIT `channel`, a non-zero `u32` handle). `Copy`, free to keep, and
/// usable as a map key.
///
/// Once [`Plugin::on_broken`](crate::Plugin::on_broken) has returned for it the channel is dead:
/// [`send`](Channel::send) returns false and [`close`](Channel::close) does nothing. The broker does
/// not give its number to a new connection while the plugin may still hold it.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug)]
pub struct Channel(u32);

impl Channel {
    /// The channel with handle `id` (as returned by [`id`](Channel::id)).
    pub const fn from_id(id: u32) -> Channel {
        Channel(id)
    }

    /// The channel's handle.
    pub const fn id(self) -> u32 {
        self.0
    }

    /// Queues one frame with `payload` as its body; the broker copies the bytes before returning.
    ///
    /// Returns false, and sends nothing, when the channel is dead or closing, when the payload is
    /// larger than the broker's frame limit, or when the peer's outbound queue is full.
    pub fn send(self, payload: &[u8]) -> bool {
        abi::channel_send(self.0, payload)
    }

    /// Closes the channel after the frames already queued for it are written.
    /// [`Plugin::on_broken`](crate::Plugin::on_broken) with
    /// [`CloseReason::ClosedByPlugin`](crate::CloseReason::ClosedByPlugin) follows once the current
    /// call returns. Closing a dead or closing channel does nothing.
    pub fn close(self) {
        abi::channel_close(self.0)
    }

    /// Marks the channel authenticated: the broker's auth deadline (`--auth-deadline-ms`) and its
    /// pre-authentication frame and byte budget stop applying to it. Call it once the peer proved
    /// who it is. Returns false when the channel is dead or closing.
    pub fn authenticate(self) -> bool {
        abi::channel_authenticate(self.0)
    }

    /// Stores `data` as the channel's data, replacing what was stored (empty clears it). Channel
    /// data is kept by the broker, not in plugin memory: it survives a trap (read it back in
    /// [`Plugin::on_connect`](crate::Plugin::on_connect) when `peer.resumed`) and a hot swap, and
    /// goes when the channel ends (it is still readable in `on_broken`). The broker copies the
    /// bytes before returning.
    ///
    /// Returns false, and keeps what was stored, when `data` is above `--channel-data-max-bytes`
    /// (default 4096) or the channel is dead or ending (inside its `on_broken`).
    pub fn set_data(self, data: &[u8]) -> bool {
        abi::channel_set_data(self.0, data)
    }

    /// The channel's data, as last stored with [`set_data`](Channel::set_data); empty when nothing
    /// was stored or the channel is dead. The broker writes the bytes straight into the returned
    /// vector's allocation (one allocation, one copy).
    pub fn get_data(self) -> Vec<u8> {
        abi::channel_get_data(self.0)
    }
}

impl fmt::Display for Channel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "channel#{}", self.0)
    }
}
