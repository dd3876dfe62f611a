//! [`Payload`]: a frame body the broker handed to the plugin, owned by the plugin.

use crate::abi::{free_bytes, non_null};
use alloc::vec::Vec;
use core::ops::Deref;
use core::ptr::NonNull;
use core::{fmt, mem, slice};

/// One frame body (binary safe, never empty: an empty frame is a heartbeat the broker answers
/// itself). The broker allocated it in the plugin's memory
/// through `cabi_realloc`, and it now belongs to the plugin: it is freed when dropped, or adopted
/// without a copy by [`into_vec`](Payload::into_vec). Derefs to `[u8]`.
pub struct Payload {
    ptr: NonNull<u8>,
    len: usize,
}

impl Payload {
    /// Takes ownership of `len` bytes at `ptr`, allocated by `cabi_realloc(0, 0, 1, len)`.
    pub(crate) unsafe fn from_raw(ptr: *mut u8, len: usize) -> Payload {
        Payload { ptr: non_null(ptr, len), len }
    }

    /// The bytes.
    pub fn as_slice(&self) -> &[u8] {
        unsafe { slice::from_raw_parts(self.ptr.as_ptr(), self.len) }
    }

    /// The bytes as a `Vec<u8>`, without copying: the broker's buffer becomes the vector's.
    pub fn into_vec(self) -> Vec<u8> {
        let (ptr, len) = (self.ptr, self.len);
        mem::forget(self);
        if len == 0 {
            return Vec::new();
        }
        // Sound: the block was allocated by the global allocator with Layout(len, 1) (cabi_realloc),
        // exactly what a Vec<u8> of capacity `len` owns.
        unsafe { Vec::from_raw_parts(ptr.as_ptr(), len, len) }
    }
}

impl Deref for Payload {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        self.as_slice()
    }
}

impl AsRef<[u8]> for Payload {
    fn as_ref(&self) -> &[u8] {
        self.as_slice()
    }
}

impl Drop for Payload {
    fn drop(&mut self) {
        unsafe { free_bytes(self.ptr.as_ptr(), self.len) }
    }
}

impl fmt::Debug for Payload {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Payload").field("len", &self.len).finish()
    }
}
