//! Pass-through filter: in front of another plugin in a chain, passes every frame on unchanged, in
//! both directions (towards the application with `chain::forward`, towards the client with the
//! `Filter` defaults).

use plugbroker::{chain, export_plugin, Channel, Filter, Payload, Plugin};

#[derive(Default)]
struct PassThrough;

impl Plugin for PassThrough {
    fn on_message(&mut self, channel: Channel, payload: Payload) {
        chain::forward(channel, &payload);
    }
}

impl Filter for PassThrough {}

export_plugin!(PassThrough; filter);
