// Canonical-ABI lifting and lowering for the `plugin` world, and the allocator the host calls.
//
// Memory model (see plugin-sdk-as/README.md, "Memory"):
//
// - `list<u8>` payloads (`handle-msg`) go into one recycled payload buffer: `cabi_realloc(0, 0, 1,
//   n)` returns it, `handle-msg` hands plugin code a recycled `Uint8Array` view of its first `n`
//   bytes, and the next frame reuses both. No allocation and no copy per frame. Measured per echo
//   round from the JS host: ≈ 70 ns this way, ≈ 180 ns with a fresh GC-managed ArrayBuffer and
//   view per frame (≈ 310 ns on a loaded machine), against a 150 ns budget. The price is
//   that the payload is *lent* for the duration of `onMessage`: plugin code that keeps the bytes
//   must copy them (`payload.slice()`). Frames above MAX_KEPT_PAYLOAD_BYTES get a one-off
//   GC-managed buffer instead, so one huge frame does not pin its size forever.
// - `string` arguments (`start`'s config, `handle-connect`'s address) are rare, so they are
//   allocated as managed `String` objects and handed to plugin code without a copy; the plugin
//   owns them and the garbage collector frees them.
//
// Between `cabi_realloc` returning a managed block and the export receiving the pointer, the block
// is referenced by nothing but the host. The `pending` global keeps it reachable in that window
// (globals are GC roots, re-scanned by the incremental collector before it sweeps), which is
// cheaper than `__pin`/`__unpin`, and lets the lifting functions check that the pointer they are
// given is the block that was just allocated: any other pointer is copied, never trusted.

import { OBJECT, TOTAL_OVERHEAD } from "rt/common";
import { Runtime } from "shared/runtime";
import { E_BAD_ALIGN, E_BAD_ENUM } from "../errors";

// The SDK needs the incremental collector (`--runtime incremental`, set by the root
// asconfig.json): plugins keep state across calls and allocate while handling frames, and only
// the incremental collector frees garbage by itself, at a cost proportional to what was allocated.
// `stub` never frees, and `minimal` needs `__collect()` calls whose cost grows with the live heap.
if (ASC_RUNTIME != Runtime.Incremental) {
  ERROR("plugin-sdk-as needs --runtime incremental (see plugin-sdk-as/README.md, Memory)");
}

// ---------------------------------------------------------------------------------------------
// Allocation

/** The managed block most recently returned by `cabi_realloc` and not yet lifted; a GC root. */
let pending: ArrayBuffer | null = null;

/** Payload buffers up to this size are kept and recycled; larger frames get a one-off block. */
// @ts-ignore: decorator
@inline const MAX_KEPT_PAYLOAD_BYTES: usize = 64 * 1024;

/** Initial size of the recycled payload buffer; it doubles (up to 64 KiB) when a frame needs it. */
// @ts-ignore: decorator
@inline const INITIAL_PAYLOAD_BYTES: i32 = 1024;

/** The recycled view handed to `onMessage` (a GC root, keeping its buffer alive too). */
let payloadView: Uint8Array = new Uint8Array(INITIAL_PAYLOAD_BYTES);

// Address and allocated size of the view's buffer, as plain integers: the per-frame path then
// handles no managed references, so the incremental collector's shadow stack is not touched on it.
let payloadData: usize = payloadView.dataStart;
let payloadCapacity: usize = <usize>payloadView.byteLength;

/** True from `cabi_realloc` handing out the payload buffer until `liftBytes` takes it back. */
let payloadLent = false;

/**
 * True while a host call that returns a `list<u8>` (`channel-get-data`) runs: the host allocates
 * the result through `cabi_realloc` during the call, and that block must be a fresh one the plugin
 * keeps, never the payload buffer (which may hold the frame `onMessage` is handling).
 */
let receiving = false;

/** Replaces the recycled payload buffer (and its view) by one of at least `size` bytes. */
function growPayloadBuffer(size: usize): void {
  let capacity = payloadCapacity << 1;
  if (capacity < size) capacity = size;
  if (capacity > MAX_KEPT_PAYLOAD_BYTES) capacity = MAX_KEPT_PAYLOAD_BYTES;
  payloadView = new Uint8Array(<i32>capacity);
  payloadData = payloadView.dataStart;
  payloadCapacity = capacity;
}

/** Largest alignment an AssemblyScript block guarantees (`__new` returns 16-byte aligned data). */
// @ts-ignore: decorator
@inline const MAX_ALIGN: usize = 16;

/** Alignment the canonical ABI asks for when lowering a UTF-16 string. */
// @ts-ignore: decorator
@inline const UTF16_ALIGN: usize = 2;

/**
 * Canonical-ABI allocator, called by the host to lower `list<u8>` and `string` arguments.
 *
 * `(0, 0, 1, size)` with `size` up to 64 KiB returns the recycled payload buffer (grown if needed),
 * except during a host call that returns a list (`beginListResult`). Otherwise `(0, 0, align, size)` allocates a fresh managed block: a `String` when `align` is 2
 * (only UTF-16 strings ask for 2 in this world), an `ArrayBuffer` otherwise. A non-zero `oldPtr`
 * resizes the pending block in place when it is that block, and copies `min(oldSize, newSize)`
 * bytes into a fresh block otherwise.
 * @returns a 16-byte aligned pointer, valid until the next export call lifts or drops it.
 * @throws E_BAD_ALIGN when `align` exceeds 16 (traps).
 */
export function cabi_realloc(oldPtr: usize, oldSize: usize, align: usize, newSize: usize): usize {
  // Hot path: one per frame. `payloadLent` is still set only if the host allocated twice for one
  // call (or abandoned a call): the second block must not alias the first, so it takes the slow path.
  if (oldPtr == 0 && align == 1 && !payloadLent && !receiving && newSize <= MAX_KEPT_PAYLOAD_BYTES) {
    if (newSize > payloadCapacity) growPayloadBuffer(newSize);
    payloadLent = true;
    return payloadData;
  }
  if (align > MAX_ALIGN) throw new Error(E_BAD_ALIGN);
  let ptr: usize;
  if (oldPtr != 0 && oldPtr == changetype<usize>(pending)) {
    ptr = __renew(oldPtr, newSize);
  } else {
    ptr = __new(newSize, align == UTF16_ALIGN ? idof<String>() : idof<ArrayBuffer>());
    if (oldPtr != 0) memory.copy(ptr, oldPtr, min(oldSize, newSize));
  }
  pending = changetype<ArrayBuffer>(ptr);
  return ptr;
}

/** Header of the managed block at `ptr`. */
// @ts-ignore: decorator
@inline function headerOf(ptr: usize): OBJECT {
  return changetype<OBJECT>(ptr - TOTAL_OVERHEAD);
}

/**
 * Takes the pending block if it is the one at `ptr`, of runtime type `id`, holding at least
 * `size` bytes; returns 0 otherwise. The pending slot is cleared either way: a block is handed
 * out at most once.
 */
// @ts-ignore: decorator
@inline function takePending(ptr: usize, id: u32, size: usize): usize {
  let block = changetype<usize>(pending);
  pending = null;
  if (block == ptr && block != 0) {
    let header = headerOf(block);
    if (header.rtId == id && <usize>header.rtSize >= size) return block;
  }
  return 0;
}

// ---------------------------------------------------------------------------------------------
// Lifting (host → plugin)

/**
 * Lifts `handle-msg`'s `list<u8>` payload into a `Uint8Array` lent to plugin code until the
 * export returns. No allocation and no copy when `ptr` is the recycled payload buffer (every frame
 * up to 64 KiB); a fresh view over the pending managed block for larger frames; a copy into a
 * fresh block for any pointer `cabi_realloc` did not just hand out.
 */
export function liftBytes(ptr: usize, len: usize): Uint8Array {
  let lent = payloadLent;
  payloadLent = false;
  if ((lent && ptr == payloadData && len <= payloadCapacity) || len == 0) {
    // Both lengths are plain integers (no GC write barrier needed). The buffer's runtime size is
    // set to the frame's length too, so `payload.buffer.byteLength == payload.byteLength` and code
    // such as `String.UTF8.decode(payload.buffer)` sees exactly the frame. The allocator and the
    // collector size blocks by their own header word, not by this field.
    headerOf(payloadData).rtSize = <u32>len;
    store<i32>(changetype<usize>(payloadView), <i32>len, offsetof<Uint8Array>("byteLength"));
    return payloadView;
  }
  return liftFreshBytes(ptr, len);
}

/**
 * `liftBytes` for frames that did not arrive in the recycled payload buffer: a view over the
 * pending block, or over a copy when `ptr` is not the pending block. Kept out of `liftBytes` so
 * that the per-frame path handles no managed local (and so does not touch the shadow stack).
 */
function liftFreshBytes(ptr: usize, len: usize): Uint8Array {
  let block = takePending(ptr, idof<ArrayBuffer>(), len);
  if (block == 0) {
    block = __new(len, idof<ArrayBuffer>());
    memory.copy(block, ptr, len);
  }
  return Uint8Array.wrap(changetype<ArrayBuffer>(block), 0, <i32>len);
}

/**
 * Lifts a UTF-16 `string` argument of `len` code units into a plugin-owned string.
 * No copy when `ptr` is the block `cabi_realloc` just returned with exactly that length.
 */
export function liftString(ptr: usize, len: usize): string {
  let size = len << 1;
  let block = takePending(ptr, idof<String>(), size);
  if (block != 0 && <usize>headerOf(block).rtSize == size) return changetype<string>(block);
  return String.UTF16.decodeUnsafe(ptr, size);
}

/**
 * Lifts an enum discriminant, trapping like the canonical ABI when it is not below `caseCount`.
 * @throws E_BAD_ENUM (traps).
 */
// @ts-ignore: decorator
@inline export function liftEnum(value: u32, caseCount: u32): i32 {
  if (value >= caseCount) throw new Error(E_BAD_ENUM);
  return <i32>value;
}

/** Return area of host calls that return a `list<u8>`: ptr at +0, len at +4. */
const LIST_RESULT_AREA: usize = memory.data(8, 4);

/**
 * Prepares a host call that returns a `list<u8>`: the next `cabi_realloc` allocates a fresh block.
 * @returns the return-area pointer to pass to the import.
 */
export function beginListResult(): usize {
  receiving = true;
  return LIST_RESULT_AREA;
}

/**
 * Lifts the `list<u8>` the host wrote to the return area into an `ArrayBuffer` the plugin owns:
 * the block `cabi_realloc` just allocated, without a copy; a copy for any other pointer.
 */
export function endListResult(): ArrayBuffer {
  receiving = false;
  let ptr = <usize>load<u32>(LIST_RESULT_AREA);
  let len = <usize>load<u32>(LIST_RESULT_AREA, 4);
  let block = takePending(ptr, idof<ArrayBuffer>(), len);
  if (block != 0 && <usize>headerOf(block).rtSize == len) return changetype<ArrayBuffer>(block);
  let copy = new ArrayBuffer(<i32>len);
  memory.copy(changetype<usize>(copy), ptr, len);
  return copy;
}

// ---------------------------------------------------------------------------------------------
// Lowering (plugin → host)

/** Return area of `start`: `result<_, string>` = u8 discriminant, then string ptr and length. */
const START_RESULT_AREA: usize = memory.data(12, 4);

/** The error string `start` returned, kept reachable until `cabi_post_start`. */
let startError: string | null = null;

/**
 * Writes `start`'s `result<_, string>` to its static return area: `ok` when `error` is null,
 * `err(error)` otherwise (the string is lent to the host without a copy, as UTF-16 code units).
 * @returns the return-area pointer the `start` export returns.
 */
export function lowerStartResult(error: string | null): usize {
  startError = error;
  if (error === null) {
    store<u8>(START_RESULT_AREA, 0);
  } else {
    store<u8>(START_RESULT_AREA, 1);
    store<u32>(START_RESULT_AREA, <u32>changetype<usize>(error), 4);
    store<u32>(START_RESULT_AREA, <u32>error.length, 8);
  }
  return START_RESULT_AREA;
}

/** Post-return of `start`: the host has read the error string, let it go. */
export function releaseStartResult(): void {
  startError = null;
}

/** Scratch blocks above this size are freed after use rather than kept for the next call. */
// @ts-ignore: decorator
@inline const MAX_KEPT_SCRATCH_BYTES: usize = 64 * 1024;

/** Raw (non-GC) scratch block that `lowerUtf8` encodes into, reused across calls. */
let utf8Scratch: usize = 0;
let utf8ScratchBytes: usize = 0;

/**
 * Encodes `text` as UTF-8 (lone surrogates become U+FFFD) into the reused scratch block.
 * The bytes stay valid until the next `lowerUtf8` or `releaseUtf8`.
 * @returns the number of bytes written at `utf8ScratchPtr()`.
 */
export function lowerUtf8(text: string): usize {
  let size = <usize>String.UTF8.byteLength(text);
  if (size > utf8ScratchBytes) {
    if (utf8Scratch != 0) heap.free(utf8Scratch);
    utf8Scratch = heap.alloc(size);
    utf8ScratchBytes = size;
  }
  return String.UTF8.encodeUnsafe(
    changetype<usize>(text), text.length, utf8Scratch, false, String.UTF8.ErrorMode.REPLACE,
  );
}

/** Pointer to the bytes `lowerUtf8` wrote. */
// @ts-ignore: decorator
@inline export function utf8ScratchPtr(): usize {
  return utf8Scratch;
}

/** Frees the scratch block when one large string made it grow past 64 KiB. */
export function releaseUtf8(): void {
  if (utf8ScratchBytes > MAX_KEPT_SCRATCH_BYTES) {
    heap.free(utf8Scratch);
    utf8Scratch = 0;
    utf8ScratchBytes = 0;
  }
}
