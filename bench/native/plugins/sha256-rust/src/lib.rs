//! sha256-rust: every frame a peer sends is answered with its SHA-256 digest (32 bytes), on the
//! same channel. The digest is `sha256.rs`, the port of the shared C code (bench/native/sha256/).

use plugbroker::{export_plugin, Channel, Payload, Plugin};

mod sha256;

#[derive(Default)]
struct Sha256Plugin;

impl Plugin for Sha256Plugin {
    fn on_message(&mut self, channel: Channel, payload: Payload) {
        // A full outbound queue drops the reply: the broker closes peers that do not read.
        channel.send(&sha256::sha256(&payload));
    }
}

export_plugin!(Sha256Plugin);
