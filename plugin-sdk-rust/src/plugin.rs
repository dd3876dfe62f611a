//! [`Plugin`]: the trait a plugin implements.

use crate::{Channel, CloseReason, Payload, PeerInfo};
use alloc::string::String;
use alloc::vec::Vec;

/// A plugin: override the handlers you need; the defaults accept every connection and ignore
/// everything else. Export the type with [`export_plugin!`](crate::export_plugin).
///
/// The broker calls one handler at a time and never re-enters the plugin. For one channel the
/// order is: `on_connect`, then `on_message` per frame in order, then exactly one `on_broken`
/// (also after a refused `on_connect` or a [`Channel::close`]).
pub trait Plugin {
    /// Called once per instance before anything else, with the text given to
    /// `broker serve --plugin-config` (`""` when none). Also called on each fresh instance after a
    /// trap. Return `Err(message)` to refuse to serve: the broker prints it and exits.
    fn start(&mut self, config: &str) -> Result<(), String> {
        let _ = config;
        Ok(())
    }

    /// Called once when the broker shuts down, after `on_broken(…, Shutdown)` for every channel.
    fn stop(&mut self) {}

    /// A peer connected (or, with `peer.resumed`, an open channel is handed to a fresh instance).
    /// `channel` may already be sent to (a greeting). Return false to refuse: the broker closes
    /// the connection and calls `on_broken(channel, RefusedByPlugin)`.
    fn on_connect(&mut self, channel: Channel, peer: &PeerInfo<'_>) -> bool {
        let _ = (channel, peer);
        true
    }

    /// One complete frame arrived from `channel`. The plugin owns `payload`: drop it, keep it, or
    /// turn it into a `Vec<u8>` with [`Payload::into_vec`].
    fn on_message(&mut self, channel: Channel, payload: Payload) {
        let _ = (channel, payload);
    }

    /// `channel` ended for `reason`. It is dead once this returns: drop its state.
    fn on_broken(&mut self, channel: Channel, reason: CloseReason) {
        let _ = (channel, reason);
    }

    /// The timer `token` (armed with [`timer::set`](crate::timer::set)) is due. Called only when
    /// the plugin is exported with `export_plugin!(…; timers)` (world `timed-plugin`).
    fn on_timer(&mut self, token: u64) {
        let _ = token;
    }

    /// Hot swap, old instance: the state to hand to the new version (any format; put a version
    /// byte first). Called only when exported with `export_plugin!(…; stateful)`; no call follows.
    fn snapshot(&mut self) -> Vec<u8> {
        Vec::new()
    }

    /// Hot swap, new instance (after `start`, before any other call): rebuild the state from what
    /// the previous version's `snapshot` returned. The channels it knows get no `on_connect`.
    fn restore(&mut self, state: Payload) {
        let _ = state;
    }
}
