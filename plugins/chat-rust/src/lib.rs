//! Chat: rooms (broker groups), a delayed reply (a broker timer) and a question for a backend
//! service (a broker upstream). Commands, one per frame:
//!
//! - `join <room>`: joins the room (1 to 64 bytes); reply `joined <room> <members>`
//! - `leave <room>`: leaves it; reply `left <room>`, or `not in <room>`
//! - `say <room> <text>`: sends `<room>: <text>` to every other member; reply `sent <count>`
//! - `ping <ms>`: reply `pong` after `<ms>` milliseconds (0 to 60000); a new ping replaces one
//!   still pending
//! - `cancel`: cancels the pending ping; reply `cancelled`, or `no ping pending`
//! - `ask <text>`: sends `<text>` to a node of the `logic` service on a new upstream channel and
//!   relays the node's answer; `error: no logic node` when there is none
//!
//! Anything else gets `error: unknown command`. Rooms live in the broker (a channel leaves them
//! when it ends), and a ping's timer token is the channel's handle, cancelled when the channel ends.
//! The only state the plugin keeps is which client each open question belongs to.

use plugbroker::{export_plugin, group, timer, upstream, Channel, CloseReason, Payload, Plugin};
use std::collections::BTreeMap;

const MAX_ROOM_BYTES: usize = 64;
const MAX_PING_MS: u32 = 60_000;
const UNKNOWN: &[u8] = b"error: unknown command";
const LOGIC_SERVICE: &str = "logic";

#[derive(Default)]
struct Chat {
    /// Open questions: the upstream channel each went out on → the client that asked.
    questions: BTreeMap<Channel, Channel>,
}

/// A room name: 1 to 64 bytes of UTF-8 (group names are strings).
fn room(bytes: &[u8]) -> Option<&str> {
    let name = core::str::from_utf8(bytes).ok()?;
    (1..=MAX_ROOM_BYTES).contains(&name.len()).then(|| name)
}

impl Plugin for Chat {
    fn on_message(&mut self, channel: Channel, payload: Payload) {
        if let Some(client) = self.questions.remove(&channel) {
            // A node answered: relay it, and this question's upstream channel is done.
            client.send(&payload);
            channel.close();
            return;
        }
        let reply = if let Some(name) = payload.strip_prefix(b"join ").and_then(room) {
            if group::join(name, channel) {
                format!("joined {} {}", name, group::size(name)).into_bytes()
            } else {
                b"error: cannot join".to_vec()
            }
        } else if let Some(name) = payload.strip_prefix(b"leave ").and_then(room) {
            let verb = if group::leave(name, channel) { "left" } else { "not in" };
            format!("{} {}", verb, name).into_bytes()
        } else if let Some(arg) = payload.strip_prefix(b"say ") {
            match arg.iter().position(|&b| b == b' ').and_then(|at| Some((room(&arg[..at])?, &arg[at + 1..]))) {
                Some((name, text)) => {
                    let mut frame = Vec::with_capacity(name.len() + 2 + text.len());
                    frame.extend_from_slice(name.as_bytes());
                    frame.extend_from_slice(b": ");
                    frame.extend_from_slice(text);
                    format!("sent {}", group::send(name, &frame, Some(channel))).into_bytes()
                }
                None => UNKNOWN.to_vec(),
            }
        } else if let Some(ms) = payload.strip_prefix(b"ping ").and_then(parse_ms) {
            timer::set(u64::from(channel.id()), ms, false);
            return;
        } else if let Some(text) = payload.strip_prefix(b"ask ") {
            match upstream::open(LOGIC_SERVICE, "") {
                Some(up) => {
                    self.questions.insert(up, channel);
                    up.send(text); // queued until the node accepts the connection
                    return;
                }
                None => b"error: no logic node".to_vec(),
            }
        } else if &payload[..] == b"cancel" {
            let cancelled = timer::cancel(u64::from(channel.id()));
            (if cancelled { &b"cancelled"[..] } else { &b"no ping pending"[..] }).to_vec()
        } else {
            UNKNOWN.to_vec()
        };
        channel.send(&reply);
    }

    /// A ping's timer is due: its token is the channel that asked.
    fn on_timer(&mut self, token: u64) {
        Channel::from_id(token as u32).send(b"pong");
    }

    fn on_broken(&mut self, channel: Channel, _reason: CloseReason) {
        if let Some(client) = self.questions.remove(&channel) {
            client.send(b"error: logic node lost"); // the node went away before answering
            return;
        }
        // A ping still pending must not fire for a dead channel.
        timer::cancel(u64::from(channel.id()));
        // Nobody is waiting for these answers any more.
        let orphans: Vec<Channel> = self.questions.iter().filter(|(_, c)| **c == channel).map(|(up, _)| *up).collect();
        for up in orphans {
            self.questions.remove(&up);
            up.close();
        }
    }
}

/// All of `digits` as a number of milliseconds up to `MAX_PING_MS`.
fn parse_ms(digits: &[u8]) -> Option<u32> {
    if digits.is_empty() || digits.len() > 5 || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let ms = digits.iter().fold(0u32, |n, d| n * 10 + u32::from(d - b'0'));
    (ms <= MAX_PING_MS).then(|| ms)
}

export_plugin!(Chat; timers);
