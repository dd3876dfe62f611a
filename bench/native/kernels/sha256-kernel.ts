// The AssemblyScript wasm kernel: the plugin's sha256.ts exported bare, for the host to call in a
// loop (no SDK, no canonical ABI). The host fills `input_ptr()` once.
import { sha256 } from "../plugins/sha256-as/assembly/sha256";

const KERNEL_INPUT_BYTES = 1 << 20;
const INPUT = new StaticArray<u8>(KERNEL_INPUT_BYTES);
const OUTPUT = new StaticArray<u8>(32);

export function input_ptr(): usize {
  return changetype<usize>(INPUT);
}

export function output_ptr(): usize {
  return changetype<usize>(OUTPUT);
}

/** Hashes INPUT[0..len) `iterations` times. */
export function digest(len: u32, iterations: u32): void {
  for (let i: u32 = 0; i < iterations; i++) sha256(changetype<usize>(INPUT), len, changetype<usize>(OUTPUT));
}
