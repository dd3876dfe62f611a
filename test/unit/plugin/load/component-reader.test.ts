/**
 * Unit tests of the component-binary reader on hand-assembled bytes (component binary format:
 * WebAssembly/component-model design/mvp/Binary.md). The binaries are only as valid as the reader
 * needs: section framing, core module sections (id 1) and canon sections (id 8).
 */
import { describe, expect, it } from 'vitest';
import { binaryKind, readComponent } from '../../../../host/plugin/load/component-reader.js';

const CORE_PREAMBLE = [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00];
const COMPONENT_PREAMBLE = [0x00, 0x61, 0x73, 0x6d, 0x0d, 0x00, 0x01, 0x00];

const SECTION_CUSTOM = 0;
const SECTION_CORE_MODULE = 1;
const SECTION_COMPONENT = 4;
const SECTION_TYPE = 7;
const SECTION_CANON = 8;
const SECTION_IMPORT = 10;

/** Canonical-option bytes (Binary.md `canonopt`). */
const OPT: Readonly<Record<'utf8' | 'utf16' | 'latin1utf16' | 'async', readonly number[]>> = {
  utf8: [0x00],
  utf16: [0x01],
  latin1utf16: [0x02],
  async: [0x06],
};
const memory = (idx: number) => [0x03, ...uleb(idx)];
const realloc = (idx: number) => [0x04, ...uleb(idx)];
const postReturn = (idx: number) => [0x05, ...uleb(idx)];
const callback = (idx: number) => [0x07, ...uleb(idx)];

/** Unsigned LEB128. */
function uleb(n: number): number[] {
  const out: number[] = [];
  do {
    let b = n % 128;
    n = Math.floor(n / 128);
    if (n > 0) b |= 0x80;
    out.push(b);
  } while (n > 0);
  return out;
}

function section(id: number, content: ArrayLike<number>): number[] {
  return [id, ...uleb(content.length), ...Array.from(content)];
}

function component(...sections: number[][]): Uint8Array {
  return Uint8Array.from([...COMPONENT_PREAMBLE, ...sections.flat()]);
}

/** `canon lift f opts type`: 0x00 0x00 f opts ft. */
function lift(coreFunc: number, opts: ReadonlyArray<readonly number[]>, type: number): number[] {
  return [0x00, 0x00, ...uleb(coreFunc), ...uleb(opts.length), ...opts.flat(), ...uleb(type)];
}

/** `canon lower f opts`: 0x01 0x00 f opts. */
function lower(func: number, opts: ReadonlyArray<readonly number[]>): number[] {
  return [0x01, 0x00, ...uleb(func), ...uleb(opts.length), ...opts.flat()];
}

function canonSection(...entries: number[][]): number[] {
  return section(SECTION_CANON, [...uleb(entries.length), ...entries.flat()]);
}

/** A real (valid) core module: one type section with `(func)`. */
const CORE_MODULE = Uint8Array.from([...CORE_PREAMBLE, ...section(1, [0x01, 0x60, 0x00, 0x00])]);
/** Another valid core module, different bytes: an empty module. */
const EMPTY_CORE_MODULE = Uint8Array.from(CORE_PREAMBLE);
/** A valid core module over 127 bytes, so its section size takes two LEB bytes. */
const BIG_CORE_MODULE = Uint8Array.from([...CORE_PREAMBLE, ...section(SECTION_CUSTOM, [4, ...Buffer.from('name'), ...new Array(200).fill(0x2a)])]);

describe('binaryKind', () => {
  it('recognises a core module by its preamble \\0asm 01 00 00 00', () => {
    expect(binaryKind(CORE_MODULE)).toBe('core-module');
    expect(binaryKind(EMPTY_CORE_MODULE)).toBe('core-module');
  });

  it('recognises a component by its preamble \\0asm 0d 00 01 00', () => {
    expect(binaryKind(Uint8Array.from(COMPONENT_PREAMBLE))).toBe('component');
    expect(binaryKind(component(section(SECTION_CORE_MODULE, CORE_MODULE)))).toBe('component');
  });

  it.each([
    ['text', Buffer.from('hello, this is not wasm')],
    ['a .wat source', Buffer.from('(module)\n')],
    ['an ELF header', Uint8Array.from([0x7f, 0x45, 0x4c, 0x46, 0x02, 0x01, 0x01, 0x00])],
    ['the wasm magic with core version 2', Uint8Array.from([0x00, 0x61, 0x73, 0x6d, 0x02, 0x00, 0x00, 0x00])],
    ['the wasm magic with layer 2', Uint8Array.from([0x00, 0x61, 0x73, 0x6d, 0x0d, 0x00, 0x02, 0x00])],
    ['a wrong magic with a component layer', Uint8Array.from([0x00, 0x61, 0x73, 0x6e, 0x0d, 0x00, 0x01, 0x00])],
  ])('calls %s not-wasm', (_what, bytes) => {
    expect(binaryKind(bytes)).toBe('not-wasm');
  });

  it.each([0, 1, 4, 7])('calls the first %i bytes of a valid preamble not-wasm', (length) => {
    expect(binaryKind(Uint8Array.from(COMPONENT_PREAMBLE.slice(0, length)))).toBe('not-wasm');
    expect(binaryKind(Uint8Array.from(CORE_PREAMBLE.slice(0, length)))).toBe('not-wasm');
  });
});

describe('readComponent', () => {
  it('is exercised with core modules that WebAssembly.validate accepts', () => {
    for (const m of [CORE_MODULE, EMPTY_CORE_MODULE, BIG_CORE_MODULE]) expect(WebAssembly.validate(m)).toBe(true);
  });

  it('extracts the core module and the utf16 string encoding of a lift', () => {
    const parts = readComponent(component(section(SECTION_CORE_MODULE, CORE_MODULE), canonSection(lift(0, [memory(0), OPT.utf16, realloc(1)], 0))));
    expect(parts.coreModules).toHaveLength(1);
    expect([...parts.coreModules[0]]).toEqual([...CORE_MODULE]);
    expect(parts.stringEncoding).toBe('utf16');
  });

  it('reports utf8 when no lift or lower carries a string-encoding option', () => {
    const parts = readComponent(component(section(SECTION_CORE_MODULE, CORE_MODULE), canonSection(lift(0, [memory(0), realloc(1)], 0))));
    expect(parts.stringEncoding).toBe('utf8');
    expect(parts.coreModules).toHaveLength(1);
  });

  it('reports utf8 when there is no canon section', () => {
    expect(readComponent(component(section(SECTION_CORE_MODULE, CORE_MODULE))).stringEncoding).toBe('utf8');
  });

  it('reads a preamble-only component as no modules and utf8', () => {
    expect(readComponent(component())).toEqual({ coreModules: [], stringEncoding: 'utf8' });
  });

  it.each([
    ['utf8', OPT.utf8],
    ['utf16', OPT.utf16],
    ['latin1+utf16', OPT.latin1utf16],
  ] as const)('reads string-encoding=%s', (encoding, opt) => {
    expect(readComponent(component(canonSection(lift(0, [opt], 0)))).stringEncoding).toBe(encoding);
  });

  it('reads the encoding of a lower (which has no type index)', () => {
    expect(readComponent(component(canonSection(lower(3, [OPT.utf16, memory(0)])))).stringEncoding).toBe('utf16');
  });

  it('skips index-carrying options, multi-byte indices included, before the encoding', () => {
    const opts = [memory(300), realloc(70_000), postReturn(5), OPT.async, callback(129), OPT.utf16];
    expect(readComponent(component(canonSection(lift(200, opts, 1000)))).stringEncoding).toBe('utf16');
  });

  it('keeps scanning past a lift without an encoding (skipping its type index)', () => {
    const parts = readComponent(component(canonSection(lift(0, [], 300), lift(1, [memory(0), OPT.utf16], 2))));
    expect(parts.stringEncoding).toBe('utf16');
  });

  it('keeps scanning past a lower without an encoding (which has no type index to skip)', () => {
    // If a type index were read after the lower, the next entry would be misparsed.
    const parts = readComponent(component(canonSection(lower(0, []), lower(1, [OPT.utf16]))));
    expect(parts.stringEncoding).toBe('utf16');
  });

  it('finds the encoding in a later canon section when the first has none', () => {
    const parts = readComponent(component(canonSection(lower(0, [])), section(SECTION_TYPE, [0]), canonSection(lift(0, [OPT.utf16], 0))));
    expect(parts.stringEncoding).toBe('utf16');
  });

  it('takes the first encoding in binary order', () => {
    const parts = readComponent(component(canonSection(lower(0, [OPT.utf8])), canonSection(lift(0, [OPT.utf16], 0))));
    expect(parts.stringEncoding).toBe('utf8');
  });

  it('returns every top-level core module in binary order and skips other sections', () => {
    // A core module inside a nested component is not top-level.
    const nested = component(section(SECTION_CORE_MODULE, BIG_CORE_MODULE));
    const parts = readComponent(
      component(
        section(SECTION_CUSTOM, [4, ...Buffer.from('test'), 1, 2, 3]),
        section(SECTION_CORE_MODULE, CORE_MODULE),
        section(SECTION_TYPE, [0]),
        section(SECTION_COMPONENT, nested),
        section(SECTION_CORE_MODULE, EMPTY_CORE_MODULE),
        section(SECTION_IMPORT, [0]),
        section(SECTION_CORE_MODULE, BIG_CORE_MODULE),
      ),
    );
    expect(parts.coreModules.map((m) => [...m])).toEqual([[...CORE_MODULE], [...EMPTY_CORE_MODULE], [...BIG_CORE_MODULE]]);
  });

  describe('malformed input', () => {
    const VALID = component(
      section(SECTION_CORE_MODULE, BIG_CORE_MODULE),
      canonSection(lift(0, [memory(0), OPT.utf16], 0)),
      section(SECTION_CORE_MODULE, CORE_MODULE),
    );
    /** Offsets where a section starts (or the file ends): cutting there leaves a shorter valid file. */
    const boundaries = new Set([8, 8 + 3 + BIG_CORE_MODULE.length, VALID.length - 2 - CORE_MODULE.length, VALID.length]);

    it('parses the untruncated fixture', () => {
      expect(readComponent(VALID).coreModules).toHaveLength(2);
    });

    it('throws when a file is cut anywhere inside a section', () => {
      for (let cut = 9; cut < VALID.length; cut++) {
        if (boundaries.has(cut)) continue;
        expect(() => readComponent(VALID.subarray(0, cut)), `cut at ${cut}`).toThrow();
      }
    });

    it('throws when a section size runs past the end of the file', () => {
      expect(() => readComponent(component([SECTION_CORE_MODULE, 20, ...CORE_MODULE]))).toThrow();
    });

    it('throws when the file ends after a section id', () => {
      expect(() => readComponent(component([SECTION_CANON]))).toThrow();
    });

    it('throws when the file ends inside a section size', () => {
      expect(() => readComponent(component([SECTION_CORE_MODULE, 0x80]))).toThrow();
    });

    it('throws on a LEB128 size longer than 5 bytes', () => {
      expect(() => readComponent(component([SECTION_CUSTOM, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00]))).toThrow();
    });

    it('throws when canon entries run past their section instead of reading the next one', () => {
      // The section declares two entries but holds one. The two custom sections after it, bytes
      // 00 00 | 00 01 01, read as `lift 0 (string-encoding=utf16)` by a reader that crossed the end.
      const short = section(SECTION_CANON, [2, ...lift(0, [], 0)]);
      const bait = [...section(SECTION_CUSTOM, []), ...section(SECTION_CUSTOM, [0x01])];
      expect(readComponent(component(bait)).coreModules).toEqual([]);
      expect(() => readComponent(component(short, bait))).toThrow();
    });
  });
});
