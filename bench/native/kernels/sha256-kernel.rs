//! The Rust wasm kernel: the plugin's `sha256.rs` exported bare, for the host to call in a loop
//! (no SDK, no canonical ABI). The host fills `input_ptr()` once.
#![no_std]

#[path = "../plugins/sha256-rust/src/sha256.rs"]
mod sha256;

const KERNEL_INPUT_BYTES: usize = 1 << 20;
static mut INPUT: [u8; KERNEL_INPUT_BYTES] = [0; KERNEL_INPUT_BYTES];
static mut OUTPUT: [u8; 32] = [0; 32];

#[panic_handler]
fn panic(_: &core::panic::PanicInfo) -> ! {
    core::arch::wasm32::unreachable()
}

#[no_mangle]
pub extern "C" fn input_ptr() -> *mut u8 {
    unsafe { INPUT.as_mut_ptr() }
}

#[no_mangle]
pub extern "C" fn output_ptr() -> *mut u8 {
    unsafe { OUTPUT.as_mut_ptr() }
}

/// Hashes INPUT[..len] `iterations` times.
#[no_mangle]
pub extern "C" fn digest(len: u32, iterations: u32) {
    let input = unsafe { &INPUT[..len as usize] };
    for _ in 0..iterations {
        let d = sha256::sha256(input);
        unsafe { OUTPUT = d };
    }
}
