//! Groups (WIT interface `groups`): named sets of channels, and one frame sent to all members.
//!
//! A group exists while it has members; names are 1 to 256 bytes. A channel leaves every group it
//! is in when it ends, before [`Plugin::on_broken`](crate::Plugin::on_broken).

use crate::{abi, Channel};

/// Adds `channel` to `group`. Joining twice is a no-op that returns true. Returns false when the
/// channel is dead or closing, the name is empty or longer than 256 bytes, or the channel is
/// already in 1024 groups.
pub fn join(group: &str, channel: Channel) -> bool {
    abi::group_join(group, channel.id())
}

/// Removes `channel` from `group`. Returns false when it was not a member.
pub fn leave(group: &str, channel: Channel) -> bool {
    abi::group_leave(group, channel.id())
}

/// Queues one frame with `payload` as its body for every member of `group` but `except`. The broker
/// encodes it once and copies the bytes before returning. Returns how many members it was queued
/// for (0 when the group does not exist or the payload is larger than the frame limit).
pub fn send(group: &str, payload: &[u8], except: Option<Channel>) -> u32 {
    abi::group_send(group, payload, except.map_or(0, Channel::id))
}

/// Number of members of `group` (0 when it does not exist).
pub fn size(group: &str) -> u32 {
    abi::group_size(group)
}
