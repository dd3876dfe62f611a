/**
 * The near-native benchmark's plugins (bench/native/plugins/sha256-{c,rust,as}, #15) compute what
 * node:crypto computes: each answers every frame with the SHA-256 digest of its body, in both
 * isolation modes, over real TCP. The sizes straddle the padding edges of SHA-256 (55/56/64 bytes
 * of tail) and cross several 64-byte blocks. The bench (`npm run bench:native`) times these very
 * plugins; this test keeps them right.
 */
import { createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { build } from '../../host/cli/build.js';
import { startBroker, type TestBroker } from '../helpers/broker.js';
import { connectClient, type TestClient } from '../helpers/client.js';
import { ROOT } from '../helpers/paths.js';

const PLUGINS = ['sha256-c', 'sha256-rust', 'sha256-as'] as const;
/** Body sizes: one byte, the padding edges around one block, several blocks, and 60 000 bytes. */
const SIZES = [1, 3, 55, 56, 63, 64, 65, 119, 120, 128, 1000, 4096, 60_000];

/** The bench's input pattern (bench/native/native-sha256.c): byte i is i * 31 + 7, offset by `salt`. */
function body(len: number, salt: number): Buffer {
  const b = Buffer.allocUnsafe(len);
  for (let i = 0; i < len; i++) b[i] = (i * 31 + 7 + salt) & 0xff;
  return b;
}

const sha256 = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

let outDir: string;
const built = new Map<string, string>();

beforeAll(async () => {
  outDir = await mkdtemp(join(tmpdir(), 'pb-native-digest-'));
  for (const name of PLUGINS) {
    const out = join(outDir, `${name}.wasm`);
    await build(join(ROOT, 'bench', 'native', 'plugins', name), { out, print: () => {} });
    built.set(name, out);
  }
}, 120_000);

afterAll(async () => {
  await rm(outDir, { recursive: true, force: true });
});

let tb: TestBroker | undefined;
let client: TestClient | undefined;
afterEach(async () => {
  client?.close();
  client = undefined;
  await tb?.stop();
  tb = undefined;
});

describe.each(PLUGINS)('%s', (name) => {
  it.each(['inline', 'worker'] as const)('answers each frame with the SHA-256 digest node:crypto computes (%s)', async (isolation) => {
    tb = await startBroker({ plugin: built.get(name)!, isolation });
    client = await connectClient(tb.port);
    const bodies = SIZES.map((len, i) => body(len, i));
    // All frames in one write: the plugin sees them back to back, as in the bench.
    client.write(Buffer.concat(bodies.map((b) => client!.encode(b))));
    const digests = await client.waitFrames(bodies.length, 10_000);
    expect(digests.map((d) => d.toString('hex'))).toEqual(bodies.map(sha256));
  });
});
