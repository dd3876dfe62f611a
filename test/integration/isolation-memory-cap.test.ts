/**
 * The memory cap rewriter (host/plugin/memory-cap.ts) on small hand-written modules: the maximum it
 * writes, what V8 then does with `memory.grow`, and what it refuses. Pure, no socket (#5).
 */
import { describe, expect, it } from 'vitest';
import { capMemory, pagesForMb } from '../../host/plugin/load/memory-cap.js';

async function wat(text: string): Promise<Uint8Array> {
  const { parse } = await import('@bytecodealliance/jco');
  return parse(text);
}

/** Instantiates `bytes` and grows its memory one page at a time until it fails: the pages reached. */
function growUntilRefused(bytes: Uint8Array): number {
  const inst = new WebAssembly.Instance(new WebAssembly.Module(bytes as Uint8Array<ArrayBuffer>));
  const grow = inst.exports.grow as () => number;
  while (grow() !== -1);
  return (inst.exports.memory as WebAssembly.Memory).buffer.byteLength / 65536;
}

const GROWER = (limits: string): string => `(module (memory (export "memory") ${limits})
  (func (export "grow") (result i32) (memory.grow (i32.const 1))))`;

describe('capMemory', () => {
  it('adds a maximum to a memory that has none; memory.grow then fails at the cap', async () => {
    const capped = capMemory(await wat(GROWER('1')), 16);
    expect(capped).toMatchObject({ initialPages: 1, maxPages: 16 });
    expect(growUntilRefused(capped.bytes)).toBe(16);
  });

  it('lowers a declared maximum above the cap and keeps one below it', async () => {
    expect(capMemory(await wat(GROWER('1 1000')), 16).maxPages).toBe(16);
    const below = capMemory(await wat(GROWER('1 8')), 16);
    expect(below.maxPages).toBe(8);
    expect(growUntilRefused(below.bytes)).toBe(8);
  });

  it('keeps every other section intact (the module still validates and runs)', async () => {
    const src = `(module (memory (export "memory") 2) (data (i32.const 0) "hello")
      (func (export "first") (result i32) (i32.load8_u (i32.const 0))))`;
    const capped = capMemory(await wat(src), pagesForMb(1));
    const inst = new WebAssembly.Instance(new WebAssembly.Module(capped.bytes as Uint8Array<ArrayBuffer>));
    expect((inst.exports.first as () => number)()).toBe('h'.charCodeAt(0));
  });

  it('refuses a memory whose initial size is above the cap', async () => {
    await expect(wat(GROWER('40')).then((b) => capMemory(b, 32))).rejects.toThrow(/40 pages/);
  });

  it('returns a module without memory unchanged', async () => {
    const bytes = await wat('(module (func (export "f")))');
    expect(capMemory(bytes, 16).bytes).toBe(bytes);
  });

  it('converts MiB to 64 KiB pages', () => {
    expect(pagesForMb(64)).toBe(1024);
    expect(pagesForMb(4096)).toBe(65536);
  });
});
