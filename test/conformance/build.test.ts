/**
 * `broker build` for C and Rust: a plugin folder anywhere (not only under plugins/) becomes a
 * served component; each step is printed with its time; compiler errors and missing toolchains are
 * reported as one coded error.
 */
import { spawnSync } from 'node:child_process';
import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { build, detectLanguage } from '../../host/cli/build.js';
import { rustSdkDir } from '../../host/toolchain/sdk-paths.js';
import { startBroker } from '../helpers/broker.js';
import { connectClient } from '../helpers/client.js';
import { BROKER_BIN, ROOT } from '../helpers/paths.js';

const SHOUT_C = `#include <plugbroker.h>

void pb_on_message(pb_channel ch, const uint8_t *payload, size_t len) {
    uint8_t *loud = pb_malloc(len);
    for (size_t i = 0; i < len; i++) {
        uint8_t b = payload[i];
        loud[i] = b >= 'a' && b <= 'z' ? (uint8_t)(b - 32) : b;
    }
    pb_channel_send(ch, loud, len);
    pb_free(loud);
}
`;

const SHOUT_RS = `use plugbroker::{export_plugin, Channel, Payload, Plugin};

#[derive(Default)]
struct Shout;

impl Plugin for Shout {
    fn on_message(&mut self, channel: Channel, payload: Payload) {
        let mut loud = payload.into_vec();
        loud.make_ascii_uppercase();
        channel.send(&loud);
    }
}

export_plugin!(Shout);
`;

const cargoToml = (deps: string): string => `[package]
name = "shout-rs"
version = "0.1.0"
edition = "2021"

[lib]
crate-type = ["cdylib"]

[dependencies]
${deps}
`;

let work: string;
beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'plugbroker-build-test-'));
});
afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

/** Writes `files` (relative path → text) into a fresh folder under the test's temp dir. */
async function pluginDir(name: string, files: Record<string, string>): Promise<string> {
  const dir = join(work, name);
  for (const [file, text] of Object.entries(files)) {
    await mkdir(join(dir, file, '..'), { recursive: true });
    await writeFile(join(dir, file), text);
  }
  return dir;
}

/** Builds `dir`, collecting the printed lines. */
async function buildCollecting(dir: string): Promise<{ out: string; lines: string[] }> {
  const lines: string[] = [];
  const out = await build(dir, { print: (l) => lines.push(l) });
  return { out, lines };
}

/** Serves `component`, sends `hello world`, returns the reply. */
async function roundTrip(component: string): Promise<string> {
  const tb = await startBroker({ plugin: component });
  try {
    const c = await connectClient(tb.port);
    c.send('hello world');
    const reply = (await c.readFrame()).toString();
    c.close();
    return reply;
  } finally {
    await tb.stop();
  }
}

/** A compile: seconds on a quiet machine, much more on this loaded one (as in init-build.test.ts). */
const BUILD_TIMEOUT_MS = 180_000;

describe('broker build', { timeout: BUILD_TIMEOUT_MS }, () => {
  const savedPath = process.env.PATH;
  afterEach(() => {
    process.env.PATH = savedPath;
  });

  it('detects the language from asconfig.json, Cargo.toml or a *.c file', () => {
    expect(detectLanguage(join(ROOT, 'plugins/echo-wasm'))).toBe('assemblyscript');
    expect(detectLanguage(join(ROOT, 'plugins/echo-rust'))).toBe('rust');
    expect(detectLanguage(join(ROOT, 'plugins/echo-c'))).toBe('c');
  });

  it('builds a C plugin folder outside the repository into a served component, printing each step with its time', async () => {
    const dir = await pluginDir('shout-c', { 'shout.c': SHOUT_C });
    const { out, lines } = await buildCollecting(dir);
    expect(out).toBe(join(dir, 'build', 'shout-c.wasm'));
    expect(lines[0]).toMatch(/^building .* \(c\) → /);
    for (const step of ['compile', 'component', 'validate']) expect(lines).toContainEqual(expect.stringMatching(new RegExp(`^  ${step} +\\d+ ms$`)));
    expect(await roundTrip(out)).toBe('HELLO WORLD');
  });

  it('builds a Rust plugin folder outside the repository into a served component, printing each step with its time', async () => {
    const dir = await pluginDir('shout-rs', {
      'Cargo.toml': cargoToml(`plugbroker = { path = ${JSON.stringify(rustSdkDir())} }`),
      'src/lib.rs': SHOUT_RS,
    });
    const { out, lines } = await buildCollecting(dir);
    expect(lines[0]).toMatch(/^building .* \(rust\) → /);
    for (const step of ['toolchain', 'sdk', 'compile', 'component', 'validate']) {
      expect(lines).toContainEqual(expect.stringMatching(new RegExp(`^  ${step} +\\d+ ms$`)));
    }
    expect(await roundTrip(out)).toBe('HELLO WORLD');
  });

  it("reports a C compile error as PB_ERR_BUILD_FAILED with clang's diagnostic", async () => {
    const dir = await pluginDir('broken-c', { 'broken.c': '#include <plugbroker.h>\nint broken( {\n' });
    await expect(build(dir, { print: () => {} })).rejects.toMatchObject({
      code: 'PB_ERR_BUILD_FAILED',
      step: 'compile',
      message: expect.stringContaining('broken.c:2'),
    });
  });

  it("reports a Rust compile error as PB_ERR_BUILD_FAILED with rustc's diagnostic", async () => {
    const dir = await pluginDir('broken-rs', { 'Cargo.toml': cargoToml(''), 'src/lib.rs': 'fn broken( {}\n' });
    await expect(build(dir, { print: () => {} })).rejects.toMatchObject({
      code: 'PB_ERR_BUILD_FAILED',
      step: 'compile',
      message: expect.stringContaining('src/lib.rs:1'),
    });
  });

  it('refuses a Cargo.toml dependency other than the SDK, since rustc alone cannot fetch it', async () => {
    const dir = await pluginDir('deps-rs', { 'Cargo.toml': cargoToml('serde = "1"'), 'src/lib.rs': SHOUT_RS });
    await expect(build(dir, { print: () => {} })).rejects.toMatchObject({
      code: 'PB_ERR_BUILD_FAILED',
      step: 'manifest',
      message: expect.stringContaining('serde'),
    });
  });

  it('names the Debian packages in one line when clang is missing', () => {
    const result = spawnSync(process.execPath, [BROKER_BIN, 'build', join(ROOT, 'plugins/echo-c'), '-o', join(work, 'never.wasm')], {
      cwd: ROOT,
      env: { ...process.env, PATH: '' },
      encoding: 'utf8',
    });
    expect(result.status).toBe(1);
    expect(result.stderr.trimEnd().split('\n')).toEqual([
      'broker: clang not found: install it with `apt-get install -y clang lld` (Debian) [PB_ERR_BUILD_TOOLCHAIN_MISSING]',
    ]);
  });

  it('names the Debian packages when no rustc is on PATH', async () => {
    process.env.PATH = '';
    await expect(build(join(ROOT, 'plugins/echo-rust'), { out: join(work, 'never.wasm'), print: () => {} })).rejects.toMatchObject({
      code: 'PB_ERR_BUILD_TOOLCHAIN_MISSING',
      tool: 'rustc',
      message: expect.stringContaining('apt-get install -y rustc libstd-rust-dev-wasm32'),
    });
  });

  it('names libstd-rust-dev-wasm32 when the only rustc has no wasm32 standard library (a rustup shim)', async () => {
    const bin = join(work, 'fake-rustup-bin');
    await mkdir(join(bin, 'sysroot', 'lib', 'rustlib', 'x86_64-unknown-linux-gnu'), { recursive: true });
    await writeFile(join(bin, 'rustc'), `#!/bin/sh\necho ${join(bin, 'sysroot')}\n`);
    await chmod(join(bin, 'rustc'), 0o755);
    process.env.PATH = bin;
    await expect(build(join(ROOT, 'plugins/echo-rust'), { out: join(work, 'never.wasm'), print: () => {} })).rejects.toMatchObject({
      code: 'PB_ERR_BUILD_TOOLCHAIN_MISSING',
      message: expect.stringContaining('libstd-rust-dev-wasm32'),
    });
  });
});
