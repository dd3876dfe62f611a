/**
 * The host side of the canonical ABI (`PluginInstance`, `PluginMemory`, the import object) against
 * a small core module written here in WAT (compiled with binaryen, a dependency): strings in both
 * encodings, `result<_, string>` and `list<u8>` behind return pointers, a `cabi_realloc` that hands
 * out odd addresses, and pointers the plugin gets wrong.
 */
import { describe, expect, it } from 'vitest';
import type { StringEncoding } from '../../../../host/plugin/load/component-reader.js';
import { createGroupsInterface } from '../../../../host/host-api/groups.js';
import { createHostInterface } from '../../../../host/host-api/host.js';
import type { HostImports } from '../../../../host/host-api/host-imports.js';
import { createTimersInterface } from '../../../../host/host-api/timers.js';
import { createUpstreamsInterface } from '../../../../host/host-api/upstreams.js';
import { PluginInstance } from '../../../../host/plugin/abi/instance.js';
import type { PluginSpec } from '../../../../host/plugin/load/plugin-spec.js';
import { HOST_IMPORT_MODULE, type PeerInfo } from '../../../../host/plugin/world.js';

// handle-msg, by the first payload byte:
//   "o"  from now on cabi_realloc returns odd addresses
//   "u"  log(info) from an odd address (a UTF-16 string must be 2-aligned)
//   "b"  channel-send with a pointer past the end of memory
//   "g"  grow memory by 2 pages, copy the payload to the first new page, send it from there
//   else echo with channel-send
// handle-connect logs the peer address; start logs the config and, when it is not empty, refuses
// with the config as its error; restore keeps the state, snapshot hands it back.
const WAT = `
(module
  (import "${HOST_IMPORT_MODULE}" "channel-send" (func $send (param i32 i32 i32) (result i32)))
  (import "${HOST_IMPORT_MODULE}" "log" (func $log (param i32 i32 i32)))
  (memory (export "memory") 1)
  (global $heap (mut i32) (i32.const 1024))
  (global $odd (mut i32) (i32.const 0))
  (global $state (mut i32) (i32.const 0))
  (global $stateLen (mut i32) (i32.const 0))
  (func (export "cabi_realloc") (param $o i32) (param $os i32) (param $align i32) (param $size i32) (result i32)
    (local $p i32)
    (local.set $p (i32.add (global.get $heap) (global.get $odd)))
    (global.set $heap (i32.and (i32.add (i32.add (local.get $p) (local.get $size)) (i32.const 15)) (i32.const -8)))
    (local.get $p))
  (func (export "start") (param $ptr i32) (param $len i32) (result i32)
    (call $log (i32.const 2) (local.get $ptr) (local.get $len))
    (i32.store8 (i32.const 16) (i32.ne (local.get $len) (i32.const 0)))
    (i32.store (i32.const 20) (local.get $ptr))
    (i32.store (i32.const 24) (local.get $len))
    (i32.const 16))
  (func (export "stop"))
  (func (export "handle-connect") (param $ch i32) (param $ap i32) (param $al i32) (param $port i32) (param $tr i32) (param $sec i32) (param $res i32) (result i32)
    (call $log (i32.const 2) (local.get $ap) (local.get $al))
    (i32.const 1))
  (func (export "handle-msg") (param $ch i32) (param $ptr i32) (param $len i32)
    (local $c i32)
    (local.set $c (i32.load8_u (local.get $ptr)))
    (if (i32.eq (local.get $c) (i32.const 0x6f)) (then (global.set $odd (i32.const 1)) (return)))
    (if (i32.eq (local.get $c) (i32.const 0x75)) (then (call $log (i32.const 2) (i32.const 33) (i32.const 2)) (return)))
    (if (i32.eq (local.get $c) (i32.const 0x62)) (then (drop (call $send (local.get $ch) (i32.const 65000) (i32.const 1000))) (return)))
    (if (i32.eq (local.get $c) (i32.const 0x67))
      (then
        (drop (memory.grow (i32.const 2)))
        (memory.copy (i32.const 65536) (local.get $ptr) (local.get $len))
        (drop (call $send (local.get $ch) (i32.const 65536) (local.get $len)))
        (return)))
    (drop (call $send (local.get $ch) (local.get $ptr) (local.get $len))))
  (func (export "handle-broken") (param $ch i32) (param $r i32))
  (func (export "restore") (param $ptr i32) (param $len i32)
    (global.set $state (local.get $ptr))
    (global.set $stateLen (local.get $len)))
  (func (export "snapshot") (result i32)
    (i32.store (i32.const 40) (global.get $state))
    (i32.store (i32.const 44) (global.get $stateLen))
    (i32.const 40))
)`;

let compiled: WebAssembly.Module | undefined;
async function module(): Promise<WebAssembly.Module> {
  if (compiled !== undefined) return compiled;
  const { default: binaryen } = await import('binaryen');
  const mod = binaryen.parseText(WAT);
  mod.setFeatures(binaryen.Features.All);
  const bytes = mod.emitBinary();
  mod.dispose();
  return (compiled = new WebAssembly.Module(bytes as Uint8Array<ArrayBuffer>));
}

interface Harness {
  inst: PluginInstance;
  sent: Buffer[];
  logs: string[];
}

async function instantiate(stringEncoding: Exclude<StringEncoding, 'latin1+utf16'>): Promise<Harness> {
  const spec: PluginSpec = {
    path: 'abi-test.wasm',
    name: 'abi-test',
    sha256: '',
    sizeBytes: 0,
    module: await module(),
    stringEncoding,
    hasPostStart: false,
    stateful: true,
    timed: false,
    hasPostSnapshot: false,
    maxMemoryPages: 16,
    callFuel: 0,
  };
  const sent: Buffer[] = [];
  const logs: string[] = [];
  const none = (): 0 => 0;
  const imports: HostImports = {
    host: createHostInterface(
      {
        send(_ch, src, start, end) {
          sent.push(Buffer.from(src.subarray(start, end)));
          return true;
        },
        close() {},
        authenticate: () => true,
        setData: () => false,
        getData: () => undefined,
        log: (_level, message) => void logs.push(message),
      },
      { maxFrameBytes: 1 << 20, maxChannelDataBytes: 4096 },
    ),
    groups: createGroupsInterface({ join: () => false, leave: () => false, send: none, size: none }, { maxFrameBytes: 1 << 20 }),
    timers: createTimersInterface({ set: () => false, cancel: () => false }, { timed: false }),
    upstreams: createUpstreamsInterface({ open: none }),
  };
  return { inst: new PluginInstance(spec, imports), sent, logs };
}

const PEER: PeerInfo = { address: 'fe80::1%ünïcødé', port: 7, transport: 'tcp', secure: false, resumed: false };
const bad = expect.objectContaining({ code: 'PB_ERR_PLUGIN_BAD_POINTER' });

describe.each(['utf8', 'utf16'] as const)('PluginInstance, %s strings', (encoding) => {
  it('lowers a string argument and lifts the string the plugin logs back, non-ASCII included', async () => {
    const h = await instantiate(encoding);
    expect(h.inst.start('')).toBeNull();
    expect(h.inst.handleConnect(1, PEER)).toBe(true);
    expect(h.logs).toEqual(['', PEER.address]);
  });

  it("reads start's result<_, string> error through its return pointer", async () => {
    const h = await instantiate(encoding);
    expect(h.inst.start('refusé: ∅')).toBe('refusé: ∅');
  });

  it('copies a list<u8> in through cabi_realloc and out of memory on channel-send', async () => {
    const h = await instantiate(encoding);
    h.inst.start('');
    const payload = Buffer.from('hello');
    h.inst.handleMsg(1, payload);
    payload.fill(0); // the host copied it in; the frame sent is the plugin's copy
    expect(h.sent.map(String)).toEqual(['hello']);
  });

  it('sees memory the plugin grew during the call', async () => {
    const h = await instantiate(encoding);
    h.inst.start('');
    const before = h.inst.memoryBytes;
    h.inst.handleMsg(1, Buffer.from('g: sent from the new page'));
    h.inst.handleMsg(1, Buffer.from('echo after the grow'));
    expect(h.inst.memoryBytes).toBe(before + 2 * 65536);
    expect(h.sent.map(String)).toEqual(['g: sent from the new page', 'echo after the grow']);
  });

  it('traps the plugin (its own fault) for a buffer past the end of its memory', async () => {
    const h = await instantiate(encoding);
    h.inst.start('');
    expect(() => h.inst.handleMsg(1, Buffer.from('b'))).toThrow(bad);
    expect(h.sent).toEqual([]);
  });

  it('round-trips a snapshot: restore copies the state in, snapshot copies it out', async () => {
    const h = await instantiate(encoding);
    h.inst.start('');
    h.inst.restore(Uint8Array.of(1, 2, 3, 250));
    const state = h.inst.snapshot();
    expect([...state]).toEqual([1, 2, 3, 250]);
  });
});

describe('PluginInstance, UTF-16 specifics', () => {
  it('refuses an odd address from cabi_realloc for a UTF-16 string: the plugin traps', async () => {
    const h = await instantiate('utf16');
    h.inst.start('');
    h.inst.handleMsg(1, Buffer.from('o')); // cabi_realloc hands out odd addresses from now on
    expect(() => h.inst.handleConnect(2, PEER)).toThrow(bad);
  });

  it('accepts an odd cabi_realloc address for UTF-8 strings and byte lists (alignment 1)', async () => {
    const h = await instantiate('utf8');
    h.inst.start('');
    h.inst.handleMsg(1, Buffer.from('o'));
    expect(h.inst.handleConnect(2, PEER)).toBe(true);
    h.inst.handleMsg(1, Buffer.from('from an odd address'));
    expect(h.logs.at(-1)).toBe(PEER.address);
    expect(h.sent.map(String)).toEqual(['from an odd address']);
  });

  it('refuses a UTF-16 string the plugin passes from an odd address', async () => {
    const h = await instantiate('utf16');
    h.inst.start('');
    expect(() => h.inst.handleMsg(1, Buffer.from('u'))).toThrow(bad);
  });

  it('counts a UTF-16 length in code units, surrogate pairs as two', async () => {
    const h = await instantiate('utf16');
    const text = 'a😀b'; // 4 code units
    expect(h.inst.start(text)).toBe(text);
    expect(h.logs).toEqual([text]);
  });
});
