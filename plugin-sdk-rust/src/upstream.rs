//! Upstreams (WIT interface `upstreams`): channels to other servers, addressed by logical service
//! name (`broker serve --upstream logic=10.0.0.1:7001,10.0.0.2:7001/least-connections`).

use crate::{abi, Channel};

/// Opens a channel to one node of `service`, chosen by the service's policy; `key` picks the node
/// for `consistent-hash` (the same key reaches the same node while it is up; "" otherwise). The
/// channel is used like a client's ([`Channel::send`], [`Channel::close`], groups); the node's
/// frames arrive in [`Plugin::on_message`](crate::Plugin::on_message) and one
/// [`Plugin::on_broken`](crate::Plugin::on_broken) ends it (no `on_connect`). Frames sent before
/// the node accepted the connection are queued.
///
/// Returns `None` when the service is unknown, every node is ejected, or a name or key is longer
/// than 256 bytes.
pub fn open(service: &str, key: &str) -> Option<Channel> {
    match abi::upstream_open(service, key) {
        0 => None,
        id => Some(Channel::from_id(id)),
    }
}
