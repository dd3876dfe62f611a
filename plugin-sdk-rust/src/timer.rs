//! Timers (WIT interface `timers`): many per plugin, each named by a token the plugin chooses. A due
//! timer calls [`Plugin::on_timer`](crate::Plugin::on_timer), which needs `export_plugin!(…; timers)`.
//! Timers belong to the instance: a fresh one after a trap re-arms what it needs from `start`.

use crate::abi;

/// Arms the timer `token`: `on_timer(token)` after `delay_ms` milliseconds, then, when `repeat`,
/// every `delay_ms` (at least 1 ms) until cancelled. Setting an armed token re-arms it. Returns
/// false when the plugin was not exported with `timers`, or when 100 000 timers are armed.
pub fn set(token: u64, delay_ms: u32, repeat: bool) -> bool {
    abi::timer_set(token, delay_ms, repeat)
}

/// Disarms the timer `token`. Returns false when it was not armed (or a one-shot already fired).
pub fn cancel(token: u64) -> bool {
    abi::timer_cancel(token)
}
