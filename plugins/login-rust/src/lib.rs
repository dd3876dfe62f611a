//! Login: a stateful sample. The first frame must be `login <name>` (a name of 1 to 32 bytes); the
//! plugin answers `<greeting> <name>` and from then on echoes every frame prefixed with `<name>: `.
//! Any other first frame is answered with `error: expected "login <name>"` and the channel is
//! closed. A logged-in channel is marked authenticated, so `--auth-deadline-ms` closes only peers
//! that never log in. The greeting is the plugin config (`--plugin-config`), `welcome` when empty; a config
//! longer than 32 bytes refuses to start.
//!
//! Per-channel state lives in a `BTreeMap` entry created in `on_connect` and removed in
//! `on_broken`, so memory stays flat however many connections come and go. The plugin is a
//! `stateful-plugin`: on a hot swap (SIGHUP) the sessions move to the new instance, so logged-in
//! peers stay logged in. A channel it does not know (after a swap from a version whose state it
//! cannot read) starts over, as if it had just connected. The name is also stored as the channel's
//! data (`Channel::set_data`), which the broker keeps: after a trap the fresh instance reads it back
//! in the resumed `on_connect`, so a logged-in peer stays logged in. To show it, a logged-in peer's
//! frame `!trap` makes the plugin trap (this is a sample: a real plugin has no such command).

use plugbroker::{export_plugin, log, Channel, CloseReason, Payload, PeerInfo, Plugin};
use std::collections::BTreeMap;

const MAX_NAME_BYTES: usize = 32;
const MAX_GREETING_BYTES: usize = 32;
const LOGIN_PREFIX: &[u8] = b"login ";
const ERROR_REPLY: &[u8] = b"error: expected \"login <name>\"";
const SNAPSHOT_VERSION: u8 = 1;

/// What the plugin knows about one channel: `None` until the peer has logged in.
type Session = Option<Vec<u8>>;

/// The name stored as the channel's data by an earlier instance, if any.
fn stored_name(channel: Channel) -> Session {
    let data = channel.get_data();
    if data.is_empty() || data.len() > MAX_NAME_BYTES {
        None
    } else {
        Some(data)
    }
}

struct Login {
    greeting: Vec<u8>,
    sessions: BTreeMap<Channel, Session>,
}

impl Plugin for Login {
    fn start(&mut self, config: &str) -> Result<(), String> {
        if config.len() > MAX_GREETING_BYTES {
            return Err("greeting longer than 32 bytes".into());
        }
        self.greeting = if config.is_empty() { b"welcome".to_vec() } else { config.as_bytes().to_vec() };
        Ok(())
    }

    fn on_connect(&mut self, channel: Channel, _peer: &PeerInfo<'_>) -> bool {
        // A resumed channel (after a trap) keeps its login: the name is the channel's data.
        self.sessions.insert(channel, stored_name(channel));
        true
    }

    fn on_message(&mut self, channel: Channel, payload: Payload) {
        let session = self.sessions.entry(channel).or_insert_with(|| stored_name(channel));
        match session {
            Some(name) => {
                if &payload[..] == b"!trap" {
                    std::process::abort(); // the demo of a trap (see the top of the file)
                }
                let mut frame = Vec::with_capacity(name.len() + 2 + payload.len());
                frame.extend_from_slice(name);
                frame.extend_from_slice(b": ");
                frame.extend_from_slice(&payload);
                channel.send(&frame);
            }
            None => match login_name(&payload) {
                Some(name) => {
                    let mut reply = Vec::with_capacity(self.greeting.len() + 1 + name.len());
                    reply.extend_from_slice(&self.greeting);
                    reply.push(b' ');
                    reply.extend_from_slice(name);
                    channel.send(&reply);
                    log!(Info, "{} logged in", String::from_utf8_lossy(name));
                    channel.set_data(name); // kept by the broker: survives a trap
                    *session = Some(name.to_vec());
                    channel.authenticate(); // lifts the broker's auth deadline (--auth-deadline-ms)
                }
                None => {
                    channel.send(ERROR_REPLY);
                    channel.close();
                }
            },
        }
    }

    fn on_broken(&mut self, channel: Channel, _reason: CloseReason) {
        self.sessions.remove(&channel);
    }

    /// A version byte, then per session its channel (u32, little-endian), the name's length (0: not
    /// logged in) and the name.
    fn snapshot(&mut self) -> Vec<u8> {
        let mut state = vec![SNAPSHOT_VERSION];
        for (channel, session) in &self.sessions {
            let name = session.as_deref().unwrap_or(&[]);
            state.extend_from_slice(&channel.id().to_le_bytes());
            state.push(name.len() as u8);
            state.extend_from_slice(name);
        }
        state
    }

    fn restore(&mut self, state: Payload) {
        let mut rest = match state.split_first() {
            Some((&SNAPSHOT_VERSION, rest)) => rest,
            _ => return, // unknown: channels start over
        };
        while rest.len() >= 5 {
            let channel = Channel::from_id(u32::from_le_bytes([rest[0], rest[1], rest[2], rest[3]]));
            let len = rest[4] as usize;
            let name = match rest.get(5..5 + len) {
                Some(name) if len <= MAX_NAME_BYTES => name,
                _ => return,
            };
            self.sessions.insert(channel, if len == 0 { None } else { Some(name.to_vec()) });
            rest = &rest[5 + len..];
        }
    }
}

/// The name in a `login <name>` frame, if the frame is one.
fn login_name(frame: &[u8]) -> Option<&[u8]> {
    let name = frame.strip_prefix(LOGIN_PREFIX)?;
    (1..=MAX_NAME_BYTES).contains(&name.len()).then(|| name)
}

export_plugin!(Login, Login { greeting: Vec::new(), sessions: BTreeMap::new() }; stateful);
