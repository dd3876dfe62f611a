/**
 * Reads the parts of a WebAssembly component binary that the broker needs and that jco exposes no
 * API for: the top-level core modules and the string encoding in the canonical options. Written by
 * hand because it runs once per load and only walks section headers (component binary format:
 * WebAssembly/component-model design/mvp/Binary.md).
 */

/** What `readComponent` found. */
export interface ComponentParts {
  /** Every core module embedded at the top level of the component, in binary order. */
  readonly coreModules: readonly Uint8Array[];
  /** String encoding of the canonical lifts/lowers (`utf8` when none says otherwise). */
  readonly stringEncoding: StringEncoding;
}

export type StringEncoding = 'utf8' | 'utf16' | 'latin1+utf16';

/** What kind of binary a file holds, from its 8-byte preamble. */
export type BinaryKind = 'component' | 'core-module' | 'not-wasm';

const MAGIC = [0x00, 0x61, 0x73, 0x6d];
const SECTION_CORE_MODULE = 1;
const SECTION_CANON = 8;
const CANON_LIFT = 0x00;
const CANON_LOWER = 0x01;
const ENCODINGS: Record<number, StringEncoding> = { 0x00: 'utf8', 0x01: 'utf16', 0x02: 'latin1+utf16' };

/** Tells a component from a core module from anything else. */
export function binaryKind(bytes: Uint8Array): BinaryKind {
  if (bytes.length < 8 || MAGIC.some((b, i) => bytes[i] !== b)) return 'not-wasm';
  // Layer field (bytes 6–7): 0 for core modules, 1 for components.
  const layer = bytes[6] | (bytes[7] << 8);
  if (layer === 1) return 'component';
  if (layer === 0 && bytes[4] === 1 && bytes[5] === 0) return 'core-module';
  return 'not-wasm';
}

/**
 * Splits a component into its top-level core modules and reads its string encoding.
 * @throws {Error} when the binary is truncated or malformed (callers wrap it).
 */
export function readComponent(bytes: Uint8Array): ComponentParts {
  const coreModules: Uint8Array[] = [];
  let stringEncoding: StringEncoding | undefined;
  const r = new Reader(bytes, 8);
  while (!r.done()) {
    const id = r.byte();
    const size = r.u32();
    const start = r.pos;
    const end = start + size;
    if (end > bytes.length) throw new Error(`section ${id} at byte ${start} runs past the end of the file`);
    if (id === SECTION_CORE_MODULE) coreModules.push(bytes.subarray(start, end));
    else if (id === SECTION_CANON) stringEncoding ??= canonStringEncoding(new Reader(bytes.subarray(0, end), start));
    r.pos = end;
  }
  return { coreModules, stringEncoding: stringEncoding ?? 'utf8' };
}

/** First string-encoding option of a lift/lower in one canon section, if any. */
function canonStringEncoding(r: Reader): StringEncoding | undefined {
  const count = r.u32();
  for (let i = 0; i < count; i++) {
    const kind = r.byte();
    // lift: 0x00 0x00 f opts ft; lower: 0x01 0x00 f opts. Anything else (resource and async
    // builtins) has other layouts; the first lift/lower of a component already tells its encoding.
    if ((kind !== CANON_LIFT && kind !== CANON_LOWER) || r.byte() !== 0x00) return undefined;
    r.u32(); // core or component function index
    const optCount = r.u32();
    for (let j = 0; j < optCount; j++) {
      const opt = r.byte();
      if (opt in ENCODINGS) return ENCODINGS[opt];
      if (opt >= 0x03 && opt <= 0x05)
        r.u32(); // memory, realloc, post-return carry an index
      else if (opt === 0x07) r.u32(); // callback
    }
    if (kind === CANON_LIFT) r.u32(); // type index
  }
  return undefined;
}

class Reader {
  pos: number;
  readonly #bytes: Uint8Array;
  constructor(bytes: Uint8Array, pos: number) {
    this.#bytes = bytes;
    this.pos = pos;
  }
  done(): boolean {
    return this.pos >= this.#bytes.length;
  }
  byte(): number {
    if (this.pos >= this.#bytes.length) throw new Error('unexpected end of component binary');
    return this.#bytes[this.pos++];
  }
  /** Unsigned LEB128, at most 5 bytes. */
  u32(): number {
    let result = 0;
    for (let shift = 0; shift < 35; shift += 7) {
      const b = this.byte();
      result += (b & 0x7f) * 2 ** shift;
      if ((b & 0x80) === 0) return result;
    }
    throw new Error('malformed LEB128 in component binary');
  }
}
