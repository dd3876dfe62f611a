//! # plugbroker Rust SDK
//!
//! The world `plugbroker:plugin/plugin` (`wit/plugin.wit`) for plugins written in Rust: implement
//! [`Plugin`] and name your type in [`export_plugin!`].
//!
//! ```ignore
//! use plugbroker::{export_plugin, Channel, Payload, Plugin};
//!
//! #[derive(Default)]
//! struct Echo;
//!
//! impl Plugin for Echo {
//!     fn on_message(&mut self, channel: Channel, payload: Payload) {
//!         channel.send(&payload);
//!     }
//! }
//!
//! export_plugin!(Echo);
//! ```
//!
//! The crate is `#![no_std]` and has no dependencies (it uses `core` and `alloc` only), so it builds
//! with nothing but `rustc` and the `wasm32-unknown-unknown` standard library; `broker build`
//! compiles it and the plugin with plain `rustc` (no cargo, no crate registry).
//!
//! **Memory.** Buffers the broker hands to the plugin are allocated through `cabi_realloc`, which
//! uses the global allocator: a [`Payload`] is an ordinary heap block that the plugin owns. It is
//! freed when dropped, or becomes a `Vec<u8>` without a copy ([`Payload::into_vec`]). Strings
//! (`start`'s config, the peer address) are lent as `&str` for the call and freed after it.
//! Byte slices passed to the broker ([`Channel::send`], [`log!`]) are only read during the call.
//!
//! **Panics.** A panic (with `-C panic=abort`) is a trap: the broker logs it, closes the channel the
//! call was about with [`CloseReason::PluginFailed`] and starts a fresh instance. The panic hook
//! that [`export_plugin!`] installs logs the panic message and location (at `error`) just before.
//!
//! **std.** The SDK itself is `no_std`, but a plugin crate links `std` (it does not say `#![no_std]`):
//! Rust 1.63 (Debian's) needs std's allocation-error handler in any final module that uses `alloc`,
//! and `export_plugin!` installs its panic hook through `std::panic`. On wasm32-unknown-unknown std
//! adds no imports and, with LTO, little code; its allocator (dlmalloc) is the global allocator.
#![no_std]

extern crate alloc;

mod abi;
pub mod chain;
mod channel;
pub mod group;
pub mod log;
mod payload;
mod plugin;
pub mod timer;
mod types;
pub mod upstream;

pub use chain::Filter;
pub use channel::Channel;
pub use payload::Payload;
pub use plugin::Plugin;
pub use types::{CloseReason, LogLevel, PeerInfo, TransportKind};

/// Wall-clock milliseconds since the Unix epoch, as the broker sees it (plugins have no other clock).
pub fn now_ms() -> u64 {
    abi::now_ms()
}

/// Internals used by [`export_plugin!`]; not part of the API.
#[doc(hidden)]
pub mod __abi {
    pub use crate::abi::exports::*;
}

/// Exports the plugin type `$ty` as the world's exports (`start`, `stop`, `handle-connect`,
/// `handle-msg`, `handle-broken`). Use it once, in the crate root.
///
/// `export_plugin!(MyPlugin)` builds the instance with `Default::default()`;
/// `export_plugin!(MyPlugin, MyPlugin::new())` with the given expression. The instance is created
/// when `start` is first called and lives as long as the wasm instance.
///
/// Features after a `;` add the exports of the WIT's extended worlds:
/// `timers` exports `handle-timer` ([`Plugin::on_timer`], world `timed-plugin`), `stateful` exports
/// `snapshot` and `restore` ([`Plugin::snapshot`], [`Plugin::restore`], world `stateful-plugin`):
/// `export_plugin!(Rooms; timers)`, `export_plugin!(Rooms, Rooms::new(); timers, stateful)`.
/// `filter` exports `handle-send` and `handle-group-send` ([`Filter`], world `filter`: a plugin in
/// front of another in a chain): `export_plugin!(PassThrough; filter)`.
#[macro_export]
macro_rules! export_plugin {
    ($ty:ty) => {
        $crate::export_plugin!($ty, <$ty as ::core::default::Default>::default(););
    };
    ($ty:ty; $($feature:ident),* $(,)?) => {
        $crate::export_plugin!($ty, <$ty as ::core::default::Default>::default(); $($feature),*);
    };
    ($ty:ty, $init:expr) => {
        $crate::export_plugin!($ty, $init;);
    };
    ($ty:ty, $init:expr; $($feature:ident),* $(,)?) => {
        const _: () = {
            static PLUGIN: $crate::__abi::PluginCell<$ty> = $crate::__abi::PluginCell::new();

            fn plugin() -> &'static mut $ty {
                // Sound because the broker never calls the plugin re-entrantly (wit/plugin.wit).
                unsafe { PLUGIN.get_or_init(|| $init) }
            }

            #[export_name = "start"]
            unsafe extern "C" fn __plugbroker_start(ptr: *mut u8, len: usize) -> *const u8 {
                // A panic is a trap that says nothing; log its message and location first.
                ::std::panic::set_hook(::std::boxed::Box::new($crate::__abi::log_panic));
                $crate::__abi::start(plugin(), ptr, len)
            }

            #[export_name = "stop"]
            extern "C" fn __plugbroker_stop() {
                $crate::Plugin::stop(plugin())
            }

            #[export_name = "handle-connect"]
            unsafe extern "C" fn __plugbroker_handle_connect(
                channel: u32, address_ptr: *mut u8, address_len: usize, port: u32, transport: u32, secure: u32,
                resumed: u32,
            ) -> u32 {
                $crate::__abi::handle_connect(plugin(), channel, address_ptr, address_len, port, transport, secure, resumed)
            }

            #[export_name = "handle-msg"]
            unsafe extern "C" fn __plugbroker_handle_msg(channel: u32, ptr: *mut u8, len: usize) {
                $crate::__abi::handle_msg(plugin(), channel, ptr, len)
            }

            #[export_name = "handle-broken"]
            unsafe extern "C" fn __plugbroker_handle_broken(channel: u32, reason: u32) {
                $crate::__abi::handle_broken(plugin(), channel, reason)
            }

            $($crate::__export_feature!($feature);)*
        };
    };
}

/// The exports of one `export_plugin!` feature; expands inside `export_plugin!`, next to its
/// `plugin()` accessor. Not part of the API.
#[doc(hidden)]
#[macro_export]
macro_rules! __export_feature {
    (timers) => {
        #[export_name = "handle-timer"]
        extern "C" fn __plugbroker_handle_timer(token: u64) {
            $crate::Plugin::on_timer(plugin(), token)
        }
    };
    (filter) => {
        #[export_name = "handle-send"]
        unsafe extern "C" fn __plugbroker_handle_send(channel: u32, ptr: *mut u8, len: usize) {
            $crate::__abi::handle_send(plugin(), channel, ptr, len)
        }

        #[export_name = "handle-group-send"]
        unsafe extern "C" fn __plugbroker_handle_group_send(
            group_ptr: *mut u8, group_len: usize, ptr: *mut u8, len: usize, except: u32,
        ) {
            $crate::__abi::handle_group_send(plugin(), group_ptr, group_len, ptr, len, except)
        }
    };
    (stateful) => {
        #[export_name = "snapshot"]
        unsafe extern "C" fn __plugbroker_snapshot() -> *const u8 {
            $crate::__abi::snapshot(plugin())
        }

        #[export_name = "cabi_post_snapshot"]
        unsafe extern "C" fn __plugbroker_post_snapshot(_result: *const u8) {
            $crate::__abi::post_snapshot()
        }

        #[export_name = "restore"]
        unsafe extern "C" fn __plugbroker_restore(ptr: *mut u8, len: usize) {
            $crate::__abi::restore(plugin(), ptr, len)
        }
    };
}

/// Writes a formatted line to the broker's log: `log!(Info, "{} logged in", name)`.
///
/// The level is a [`LogLevel`] variant name (`Trace`, `Debug`, `Info`, `Warn`, `Error`). A literal
/// without arguments is passed as is; otherwise the line is formatted into a temporary `String`.
/// The broker cuts lines longer than 4096 bytes.
#[macro_export]
macro_rules! log {
    ($level:ident, $($arg:tt)+) => {
        $crate::log::write_fmt($crate::LogLevel::$level, ::core::format_args!($($arg)+))
    };
}
