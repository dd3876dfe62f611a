//! Echo: every frame a peer sends comes back to it, unchanged, on the same channel.

use plugbroker::{export_plugin, Channel, Payload, Plugin};

#[derive(Default)]
struct Echo;

impl Plugin for Echo {
    fn on_message(&mut self, channel: Channel, payload: Payload) {
        // A full outbound queue drops the echo: the broker closes peers that do not read.
        channel.send(&payload);
    }
}

export_plugin!(Echo);
