//! The canonical-ABI layer of the world `plugbroker:plugin/plugin`: the raw host imports,
//! `cabi_realloc`, and the bodies of the exports that [`export_plugin!`](crate::export_plugin)
//! generates. Core signatures are the canonical ABI flattening of `wit/plugin.wit` with UTF-8
//! strings: a string or `list<u8>` is (ptr, len), `u16`/`u32`/`bool`/enums are `i32`, `u64` is
//! `i64`, and `result<_, string>` is returned through a pointer to a return area.

use alloc::alloc::{alloc, dealloc, realloc, Layout};
use core::ptr::NonNull;

#[link(wasm_import_module = "plugbroker:plugin/host@0.2.0")]
extern "C" {
    #[link_name = "channel-send"]
    fn host_channel_send(channel: u32, ptr: *const u8, len: usize) -> i32;
    #[link_name = "channel-close"]
    fn host_channel_close(channel: u32);
    #[link_name = "channel-authenticate"]
    fn host_channel_authenticate(channel: u32) -> i32;
    #[link_name = "log"]
    fn host_log(level: i32, ptr: *const u8, len: usize);
    #[link_name = "now-ms"]
    fn host_now_ms() -> u64;
    #[link_name = "channel-set-data"]
    fn host_channel_set_data(channel: u32, ptr: *const u8, len: usize) -> i32;
    #[link_name = "channel-get-data"]
    fn host_channel_get_data(channel: u32, ret: *mut ListResult);
}

/// Return area of a host call that returns a `list<u8>`: the broker writes pointer and length.
#[repr(C)]
struct ListResult {
    ptr: *mut u8,
    len: usize,
}

#[link(wasm_import_module = "plugbroker:plugin/groups@0.2.0")]
extern "C" {
    #[link_name = "group-join"]
    fn host_group_join(group: *const u8, group_len: usize, channel: u32) -> i32;
    #[link_name = "group-leave"]
    fn host_group_leave(group: *const u8, group_len: usize, channel: u32) -> i32;
    #[link_name = "group-send"]
    fn host_group_send(group: *const u8, group_len: usize, ptr: *const u8, len: usize, except: u32) -> u32;
    #[link_name = "group-size"]
    fn host_group_size(group: *const u8, group_len: usize) -> u32;
}

#[link(wasm_import_module = "plugbroker:plugin/timers@0.2.0")]
extern "C" {
    #[link_name = "timer-set"]
    fn host_timer_set(token: u64, delay_ms: u32, repeat: i32) -> i32;
    #[link_name = "timer-cancel"]
    fn host_timer_cancel(token: u64) -> i32;
}

#[link(wasm_import_module = "plugbroker:plugin/upstreams@0.2.0")]
extern "C" {
    #[link_name = "upstream-open"]
    fn host_upstream_open(service: *const u8, service_len: usize, key: *const u8, key_len: usize) -> u32;
}

#[link(wasm_import_module = "plugbroker:plugin/chain@0.2.0")]
extern "C" {
    #[link_name = "chain-forward"]
    fn host_chain_forward(channel: u32, ptr: *const u8, len: usize) -> i32;
}

/// `chain-forward` (world `filter`): true when passed on. The host copies the bytes during the call.
pub(crate) fn chain_forward(channel: u32, payload: &[u8]) -> bool {
    unsafe { host_chain_forward(channel, payload.as_ptr(), payload.len()) != 0 }
}

/// `upstream-open`: the new channel's handle, 0 on failure.
pub(crate) fn upstream_open(service: &str, key: &str) -> u32 {
    unsafe { host_upstream_open(service.as_ptr(), service.len(), key.as_ptr(), key.len()) }
}

/// `group-join`.
pub(crate) fn group_join(group: &str, channel: u32) -> bool {
    unsafe { host_group_join(group.as_ptr(), group.len(), channel) != 0 }
}

/// `group-leave`.
pub(crate) fn group_leave(group: &str, channel: u32) -> bool {
    unsafe { host_group_leave(group.as_ptr(), group.len(), channel) != 0 }
}

/// `group-send`: how many members the frame was queued for.
pub(crate) fn group_send(group: &str, payload: &[u8], except: u32) -> u32 {
    unsafe { host_group_send(group.as_ptr(), group.len(), payload.as_ptr(), payload.len(), except) }
}

/// `group-size`.
pub(crate) fn group_size(group: &str) -> u32 {
    unsafe { host_group_size(group.as_ptr(), group.len()) }
}

/// `timer-set`.
pub(crate) fn timer_set(token: u64, delay_ms: u32, repeat: bool) -> bool {
    unsafe { host_timer_set(token, delay_ms, repeat as i32) != 0 }
}

/// `timer-cancel`.
pub(crate) fn timer_cancel(token: u64) -> bool {
    unsafe { host_timer_cancel(token) != 0 }
}

/// `channel-send`: true when queued. The host copies the bytes during the call.
pub(crate) fn channel_send(channel: u32, payload: &[u8]) -> bool {
    unsafe { host_channel_send(channel, payload.as_ptr(), payload.len()) != 0 }
}

/// `channel-close`.
pub(crate) fn channel_close(channel: u32) {
    unsafe { host_channel_close(channel) }
}

/// `channel-authenticate`: true when done.
pub(crate) fn channel_authenticate(channel: u32) -> bool {
    unsafe { host_channel_authenticate(channel) != 0 }
}

/// `log` with a UTF-8 message.
pub(crate) fn log(level: i32, message: &str) {
    unsafe { host_log(level, message.as_ptr(), message.len()) }
}

/// `now-ms`.
pub(crate) fn now_ms() -> u64 {
    unsafe { host_now_ms() }
}

/// `channel-set-data`: true when stored. The host copies the bytes during the call.
pub(crate) fn channel_set_data(channel: u32, data: &[u8]) -> bool {
    unsafe { host_channel_set_data(channel, data.as_ptr(), data.len()) != 0 }
}

/// `channel-get-data`. The broker allocates the bytes through `cabi_realloc(0, 0, 1, len)` during
/// the call: a global-allocator block of `Layout(len, 1)`, which the returned `Vec` adopts.
pub(crate) fn channel_get_data(channel: u32) -> alloc::vec::Vec<u8> {
    let mut result = ListResult { ptr: core::ptr::null_mut(), len: 0 };
    unsafe {
        host_channel_get_data(channel, &mut result);
        if result.len == 0 {
            // A zero-size `cabi_realloc` hands out a dangling pointer that owns nothing.
            return alloc::vec::Vec::new();
        }
        if result.ptr.is_null() {
            trap();
        }
        // Sound: allocated by `cabi_realloc` with Layout(len, 1), what a Vec<u8> of capacity `len` owns.
        alloc::vec::Vec::from_raw_parts(result.ptr, result.len, result.len)
    }
}

/// Traps: the canonical ABI's answer to a value outside its type (a host bug).
#[inline(never)]
pub(crate) fn trap() -> ! {
    core::arch::wasm32::unreachable()
}

/// Allocator the broker calls to lower `string` and `list<u8>` arguments (and could call to resize
/// them). Blocks come from the global allocator with the requested alignment, so they can be
/// released with `dealloc(ptr, Layout(len, align))` or adopted by a `Vec`. A zero size gets a
/// dangling, aligned, non-null pointer that is never freed. Traps when memory is exhausted: the
/// canonical ABI has no failure value.
#[no_mangle]
pub unsafe extern "C" fn cabi_realloc(old_ptr: *mut u8, old_size: usize, align: usize, new_size: usize) -> *mut u8 {
    let layout = match Layout::from_size_align(new_size, align) {
        Ok(layout) => layout,
        Err(_) => trap(),
    };
    let ptr = if old_size == 0 {
        if new_size == 0 {
            return align as *mut u8;
        }
        alloc(layout)
    } else if new_size == 0 {
        dealloc(old_ptr, Layout::from_size_align_unchecked(old_size, align));
        return align as *mut u8;
    } else {
        realloc(old_ptr, Layout::from_size_align_unchecked(old_size, align), new_size)
    };
    if ptr.is_null() {
        trap();
    }
    ptr
}

/// Frees a `(ptr, len)` string or byte list the broker allocated with alignment 1.
pub(crate) unsafe fn free_bytes(ptr: *mut u8, len: usize) {
    if len != 0 {
        dealloc(ptr, Layout::from_size_align_unchecked(len, 1));
    }
}

/// `start`'s return area: `result<_, string>` as discriminant (low byte of the first word), then the
/// error's pointer and length.
static mut START_RESULT: [u32; 3] = [0; 3];
/// The error string lent to the host until `cabi_post_start`.
static mut START_ERROR: Option<alloc::string::String> = None;

/// `snapshot`'s return area: `list<u8>` as pointer then length.
static mut SNAPSHOT_RESULT: [u32; 2] = [0; 2];
/// The state lent to the host until `cabi_post_snapshot`.
static mut SNAPSHOT: Option<alloc::vec::Vec<u8>> = None;

/// Post-return of `snapshot` (exported by `export_plugin!(…; stateful)`): the host has copied the
/// state; free it.
pub unsafe fn post_snapshot() {
    SNAPSHOT = None;
}

/// Post-return of `start`: the host has read the error string; free it.
#[export_name = "cabi_post_start"]
pub unsafe extern "C" fn cabi_post_start(_result: *const u8) {
    START_ERROR = None;
}

pub mod exports {
    //! Bodies of the exports generated by `export_plugin!`.

    use super::{free_bytes, trap, SNAPSHOT, SNAPSHOT_RESULT, START_ERROR, START_RESULT};
    use crate::{Channel, CloseReason, Payload, PeerInfo, Plugin, TransportKind};
    use core::cell::UnsafeCell;

    /// Holds the plugin instance in a `static`. Calls are never re-entrant (wit/plugin.wit), so
    /// one `&mut` at a time is guaranteed by the broker, not by the type system.
    pub struct PluginCell<P>(UnsafeCell<Option<P>>);

    // Sound: a wasm32-unknown-unknown instance has one thread and the broker never re-enters it.
    unsafe impl<P> Sync for PluginCell<P> {}

    impl<P> PluginCell<P> {
        pub const fn new() -> Self {
            PluginCell(UnsafeCell::new(None))
        }

        /// The instance, created by `init` on first use.
        ///
        /// # Safety
        /// No other reference obtained from this cell may be live.
        pub unsafe fn get_or_init(&self, init: impl FnOnce() -> P) -> &mut P {
            (*self.0.get()).get_or_insert_with(init)
        }
    }

    /// Lends the broker's `(ptr, len)` UTF-8 string for the duration of `f`, then frees it.
    unsafe fn with_str<R>(ptr: *mut u8, len: usize, f: impl FnOnce(&str) -> R) -> R {
        let bytes: &[u8] = if len == 0 { &[] } else { core::slice::from_raw_parts(ptr, len) };
        // The canonical ABI traps on ill-formed UTF-8; so do we.
        let text = match core::str::from_utf8(bytes) {
            Ok(text) => text,
            Err(_) => trap(),
        };
        let result = f(text);
        free_bytes(ptr, len);
        result
    }

    /// Panic hook installed by `export_plugin!`: logs `panicked at '…', src/lib.rs:L:C` at error
    /// level (the panic then traps).
    pub fn log_panic(info: &core::panic::PanicInfo<'_>) {
        crate::log::write_fmt(crate::LogLevel::Error, format_args!("{}", info));
    }

    pub unsafe fn start<P: Plugin>(plugin: &mut P, ptr: *mut u8, len: usize) -> *const u8 {
        let result = with_str(ptr, len, |config| plugin.start(config));
        START_ERROR = None;
        START_RESULT = match result {
            Ok(()) => [0, 0, 0],
            Err(message) => {
                let area = [1, message.as_ptr() as u32, message.len() as u32];
                START_ERROR = Some(message);
                area
            }
        };
        START_RESULT.as_ptr() as *const u8
    }

    #[allow(clippy::too_many_arguments)]
    pub unsafe fn handle_connect<P: Plugin>(
        plugin: &mut P, channel: u32, address_ptr: *mut u8, address_len: usize, port: u32, transport: u32, secure: u32,
        resumed: u32,
    ) -> u32 {
        let transport = match transport {
            0 => TransportKind::Tcp,
            1 => TransportKind::Websocket,
            _ => trap(),
        };
        if port > u16::MAX as u32 || secure > 1 || resumed > 1 {
            trap();
        }
        with_str(address_ptr, address_len, |address| {
            let peer = PeerInfo { address, port: port as u16, transport, secure: secure != 0, resumed: resumed != 0 };
            plugin.on_connect(Channel::from_id(channel), &peer) as u32
        })
    }

    pub unsafe fn handle_msg<P: Plugin>(plugin: &mut P, channel: u32, ptr: *mut u8, len: usize) {
        plugin.on_message(Channel::from_id(channel), Payload::from_raw(ptr, len));
    }

    pub unsafe fn snapshot<P: Plugin>(plugin: &mut P) -> *const u8 {
        let state = plugin.snapshot();
        SNAPSHOT_RESULT = [state.as_ptr() as u32, state.len() as u32];
        SNAPSHOT = Some(state);
        SNAPSHOT_RESULT.as_ptr() as *const u8
    }

    pub unsafe fn restore<P: Plugin>(plugin: &mut P, ptr: *mut u8, len: usize) {
        plugin.restore(Payload::from_raw(ptr, len));
    }

    pub use super::post_snapshot;

    pub unsafe fn handle_send<F: crate::Filter>(filter: &mut F, channel: u32, ptr: *mut u8, len: usize) {
        filter.on_send(Channel::from_id(channel), Payload::from_raw(ptr, len));
    }

    pub unsafe fn handle_group_send<F: crate::Filter>(
        filter: &mut F, group_ptr: *mut u8, group_len: usize, ptr: *mut u8, len: usize, except: u32,
    ) {
        let payload = Payload::from_raw(ptr, len);
        let except = if except == 0 { None } else { Some(Channel::from_id(except)) };
        with_str(group_ptr, group_len, |group| filter.on_group_send(group, payload, except))
    }

    pub unsafe fn handle_broken<P: Plugin>(plugin: &mut P, channel: u32, reason: u32) {
        let reason = match CloseReason::from_u32(reason) {
            Some(reason) => reason,
            None => trap(),
        };
        plugin.on_broken(Channel::from_id(channel), reason);
    }
}

/// A non-null pointer for `(ptr, len)` as the broker passed it (len 0 may come with any pointer).
pub(crate) fn non_null(ptr: *mut u8, len: usize) -> NonNull<u8> {
    match NonNull::new(ptr) {
        Some(ptr) if len != 0 => ptr,
        _ => NonNull::dangling(),
    }
}
