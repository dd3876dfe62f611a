//! Plugin chains (WIT world `filter`, interface `chain`): a filter sits in front of another plugin
//! (`broker serve --plugin filter.wasm --plugin app.wasm`). Frames from the client arrive in
//! [`Plugin::on_message`](crate::Plugin::on_message): pass them on with [`forward`], answer with
//! `channel.send`, or drop them. Frames the next plugin sends towards the client arrive in
//! [`Filter::on_send`] / [`Filter::on_group_send`]: pass them on with `channel.send` /
//! [`group::send`](crate::group::send), or drop them. Export with `export_plugin!(MyFilter; filter)`.

use crate::{abi, group, Channel, Payload, Plugin};

/// Passes one frame with `payload` as its body on to the next plugin of the chain, as a frame of
/// `channel` (it gets it in its `on_message` once the current call has returned). The bytes are
/// copied. Returns false (and passes nothing) when the channel is dead or closing or an upstream
/// channel, or `payload` is empty or above the broker's frame size limit.
pub fn forward(channel: Channel, payload: &[u8]) -> bool {
    abi::chain_forward(channel.id(), payload)
}

/// A plugin in front of another in a chain: [`Plugin`] plus the outbound direction. Both defaults
/// pass the frame on unchanged.
pub trait Filter: Plugin {
    /// The next plugin queued `payload` for `channel`'s peer. Default: passed on unchanged.
    fn on_send(&mut self, channel: Channel, payload: Payload) {
        channel.send(&payload);
    }

    /// The next plugin queued `payload` for every member of `group` but `except`; called once per
    /// group send, not per member. Default: passed on unchanged.
    fn on_group_send(&mut self, group: &str, payload: Payload, except: Option<Channel>) {
        group::send(group, &payload, except);
    }
}
