/**
 * Caps a core module's linear memory by rewriting the maximum in its memory section before the
 * module is compiled: `memory.grow` past the cap then returns -1 inside the plugin, which every
 * plugin language turns into a trap (AssemblyScript's allocator aborts, C's malloc returns NULL,
 * Rust's alloc error handler panics). Written by hand because it only walks section headers
 * (WebAssembly core spec, binary format, §5.5.8 memory section and §5.3.8 limits).
 */

const WASM_PAGE_BYTES = 65536;
const SECTION_MEMORY = 5;
const LIMITS_MIN = 0x00;
const LIMITS_MIN_MAX = 0x01;

/** What `capMemory` did. */
export interface MemoryCapResult {
  /** The module with every memory's maximum at most `maxPages` (the input when nothing changed). */
  readonly bytes: Uint8Array;
  /** Initial size of the (first) memory in pages, 0 when the module defines none. */
  readonly initialPages: number;
  /** Maximum of the (first) memory after capping, in pages. */
  readonly maxPages: number;
}

/** Pages of 64 KiB in `mb` mebibytes (the cap's unit on the command line). */
export function pagesForMb(mb: number): number {
  return Math.floor((mb * 1024 * 1024) / WASM_PAGE_BYTES);
}

/**
 * Rewrites the memory section of `module` so that no memory may grow beyond `maxPages`.
 * Memories declared shared or 64-bit are left alone (the world's canonical ABI uses neither, and
 * the validator refuses them first).
 * @throws {Error} when the binary is malformed, or a memory's *initial* size is above the cap
 *   (callers wrap it in a load error naming the plugin).
 */
export function capMemory(module: Uint8Array, maxPages: number): MemoryCapResult {
  let pos = 8;
  while (pos < module.length) {
    const id = module[pos];
    const [size, sizeLen] = readU32(module, pos + 1);
    const start = pos + 1 + sizeLen;
    const end = start + size;
    if (end > module.length) throw new Error(`section ${id} at byte ${pos} runs past the end of the module`);
    if (id === SECTION_MEMORY) {
      const { body, initialPages, cappedPages } = rewriteMemorySection(module.subarray(start, end), maxPages);
      const header = [SECTION_MEMORY, ...writeU32(body.length)];
      const out = new Uint8Array(pos + header.length + body.length + (module.length - end));
      out.set(module.subarray(0, pos), 0);
      out.set(header, pos);
      out.set(body, pos + header.length);
      out.set(module.subarray(end), pos + header.length + body.length);
      return { bytes: out, initialPages, maxPages: cappedPages };
    }
    pos = end;
  }
  return { bytes: module, initialPages: 0, maxPages };
}

function rewriteMemorySection(section: Uint8Array, maxPages: number): { body: Uint8Array; initialPages: number; cappedPages: number } {
  const out: number[] = [];
  let p = 0;
  const [count, countLen] = readU32(section, p);
  p += countLen;
  out.push(...writeU32(count));
  let initialPages = 0;
  let cappedPages = maxPages;
  for (let i = 0; i < count; i++) {
    const flags = section[p++];
    if (flags !== LIMITS_MIN && flags !== LIMITS_MIN_MAX) {
      // Shared or 64-bit memory: copy the rest of the section untouched.
      out.push(flags, ...section.subarray(p));
      return { body: Uint8Array.from(out), initialPages, cappedPages };
    }
    const [min, minLen] = readU32(section, p);
    p += minLen;
    let max = maxPages;
    if (flags === LIMITS_MIN_MAX) {
      const [declared, maxLen] = readU32(section, p);
      p += maxLen;
      max = Math.min(declared, maxPages);
    }
    if (min > maxPages) throw new Error(`its memory starts at ${min} pages (${min * 64} KiB), above the cap of ${maxPages} pages`);
    if (i === 0) {
      initialPages = min;
      cappedPages = max;
    }
    out.push(LIMITS_MIN_MAX, ...writeU32(min), ...writeU32(max));
  }
  return { body: Uint8Array.from(out), initialPages, cappedPages };
}

/** Unsigned LEB128 (at most 5 bytes): [value, bytes read]. */
function readU32(bytes: Uint8Array, pos: number): [number, number] {
  let result = 0;
  for (let i = 0; i < 5; i++) {
    const b = bytes[pos + i];
    if (b === undefined) throw new Error('unexpected end of module');
    result += (b & 0x7f) * 2 ** (7 * i);
    if ((b & 0x80) === 0) return [result, i + 1];
  }
  throw new Error('malformed LEB128 in module');
}

function writeU32(value: number): number[] {
  const out: number[] = [];
  do {
    let b = value & 0x7f;
    value = Math.floor(value / 128);
    if (value !== 0) b |= 0x80;
    out.push(b);
  } while (value !== 0);
  return out;
}
