/**
 * The json-msgpack codec filter (#13 §4, plugins/json-msgpack): JSON clients over real TCP (decimal
 * framing) in front of the `msgpack-echo` fixture, which logs the bytes it was given ("saw:<hex>")
 * and sends them back. The bytes the application saw must be msgpackr's `pack()` of the parsed
 * JSON, and the reply must come back as JSON equal to the original. Both isolation modes of the
 * application (the filter runs inline in both).
 */
import { join } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { pack } from 'msgpackr';
import { afterEach, describe, expect, it } from 'vitest';
import { startBroker, type TestBroker } from '../helpers/broker.js';
import { connectClient, type TestClient } from '../helpers/client.js';
import { ROOT, fixture } from '../helpers/paths.js';
import { waitFor } from '../helpers/wait.js';

const FILTER = join(ROOT, 'plugins/json-msgpack/build/json-msgpack.wasm');

let tb: TestBroker | undefined;
const clients: TestClient[] = [];

afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  await tb?.stop();
  tb = undefined;
});

async function connect(): Promise<TestClient> {
  const c = await connectClient(tb!.port);
  clients.push(c);
  return c;
}

/** Hex of the payloads the application was given, in order. */
function seen(): string[] {
  return tb!.logs.filter((l) => l.plugin === 'msgpack-echo' && typeof l.msg === 'string' && l.msg.startsWith('saw:')).map((l) => (l.msg as string).slice(4));
}

function dropLogs(): string[] {
  return tb!.logs
    .filter((l) => l.plugin === 'json-msgpack' && typeof l.msg === 'string' && l.msg.startsWith('json-msgpack: dropped'))
    .map((l) => l.msg as string);
}

/**
 * Sends `text`, checks what the application saw against msgpackr and the reply against the original
 * (and, with `exactText`, the reply's text against JSON.stringify: numbers in JS's shortest form).
 */
async function roundTrip(c: TestClient, text: string, exactText = false): Promise<void> {
  const before = seen().length;
  c.send(text);
  const reply = (await c.readFrame()).toString('utf8');
  await waitFor(() => seen().length > before, 'the application logged the frame');
  const value: unknown = JSON.parse(text);
  const expected = Buffer.from(pack(value)).toString('hex');
  const label = text.length > 80 ? `${text.slice(0, 80)}… (${text.length} chars)` : text;
  // A plugin's log line is capped at MAX_PLUGIN_LOG_BYTES (4096): a longer hex is compared on its first 4000 digits.
  if (expected.length <= 4000) expect(seen()[before], `msgpack of ${label}`).toBe(expected);
  else expect(seen()[before]!.slice(0, 4000), `msgpack of ${label}`).toBe(expected.slice(0, 4000));
  const back: unknown = JSON.parse(reply);
  if (!isDeepStrictEqual(back, value)) expect.fail(`reply to ${label} differs: ${reply.slice(0, 200)}`);
  if (exactText) expect(reply, `reply to ${label}`).toBe(JSON.stringify(value));
}

const MODES = [
  ['inline', {}],
  ['worker', { isolation: 'worker', pluginCallBudgetMs: 2000 }],
] as const;

/** One value of each kind, on the edges of msgpack's encodings. */
const VALUES = [
  'null',
  'true',
  'false',
  '0',
  '127',
  '128',
  '255',
  '256',
  '65535',
  '65536',
  '4294967295',
  '4294967296',
  '-1',
  '-32',
  '-33',
  '-128',
  '-129',
  '-32768',
  '-32769',
  '-2147483648',
  '-2147483649',
  '9007199254740991',
  '1.5',
  '0.1',
  '-2.5e-3',
  '1e21',
  '1E2',
  '10.0',
  '3.141592653589793',
  '5e-324',
  '4503599627370497.5',
  '1.7976931348623157e308',
  '2.2250738585072014e-308',
  '123456789012345678',
  '9007199254740993',
  '18446744073709551615',
  '4.9e-324',
  '2.4703282292062328e-324',
  '1e-400',
  '1e23',
  '8.41e21',
  '0.30000000000000004',
  '-7.2057594037927933e16',
  '123456789012345678901234567890',
  '""',
  '"hello"',
  '"' + 'x'.repeat(31) + '"',
  '"' + 'y'.repeat(32) + '"',
  '"' + 'z'.repeat(300) + '"',
  '"' + 'w'.repeat(70000) + '"',
  String.raw`"quote \" backslash \\ slash \/ \b\f\n\r\t ctrl \u0001 \u001f"`,
  String.raw`"\u00e9\u4e2d\ud83d\ude00 é中😀"`,
  '[]',
  '{}',
  ' [1, "two", 3.5, null, true, {"a": []}] ',
  JSON.stringify(Array.from({ length: 20 }, (_, i) => i)),
  JSON.stringify(Array.from({ length: 70000 }, (_, i) => i % 3)),
  JSON.stringify(Object.fromEntries(Array.from({ length: 20 }, (_, i) => [`k${i}`, i]))),
  '{"cmd":"join","room":"x","n":{"deep":[{"x":-7}]}}',
];

describe.each(MODES)('json-msgpack filter, application %s', (_mode, modeOpts) => {
  it('gives the application msgpackr pack() of each JSON value and returns its reply as equal JSON', async () => {
    tb = await startBroker({ plugin: [FILTER, fixture('msgpack-echo')], ...modeOpts });
    const c = await connect();
    for (const text of VALUES) await roundTrip(c, text);
    await roundTrip(c, '[0.1, 1.5, -2.5e-3, 1e21, 5e-324, 0.30000000000000004, 1.7976931348623157e308, 4294967296]', true);
    expect(dropLogs()).toEqual([]);
  });

  it('converts numbers to the same double as JSON.parse: 300 random doubles and decimals', async () => {
    tb = await startBroker({ plugin: [FILTER, fixture('msgpack-echo')], ...modeOpts });
    const c = await connect();
    let seed = 0x9e3779b9;
    const next = (): number => {
      seed = (Math.imul(seed ^ (seed >>> 15), 0x2c1b3c6d) + 0x6d2b79f5) >>> 0;
      return seed;
    };
    const bits = new DataView(new ArrayBuffer(8));
    const numbers: string[] = [];
    while (numbers.length < 200) {
      bits.setUint32(0, next());
      bits.setUint32(4, next());
      const d = bits.getFloat64(0);
      if (Number.isFinite(d)) numbers.push(String(d)); // JS's shortest form: up to 17 digits, any exponent
    }
    for (let i = 0; i < 100; i++) {
      const digits = String(next()) + String(next()) + String(next()); // up to 30 digits
      numbers.push(`${digits.slice(0, 1)}.${digits.slice(1, 2 + (next() % 28))}e${(next() % 600) - 300}`);
    }
    // 100 per frame, so that the application's hex log (capped at 4096 bytes) holds the whole frame.
    for (let i = 0; i < numbers.length; i += 100) await roundTrip(c, `[${numbers.slice(i, i + 100).join(',')}]`, true);
  });

  it('accepts nesting up to 64 levels and drops a deeper frame, logged, keeping the channel', async () => {
    tb = await startBroker({ plugin: [FILTER, fixture('msgpack-echo')], ...modeOpts });
    const c = await connect();
    await roundTrip(c, '['.repeat(64) + ']'.repeat(64));
    await roundTrip(c, '{"a":'.repeat(63) + '[]' + '}'.repeat(63));
    const before = seen().length;
    c.send('['.repeat(65) + ']'.repeat(65));
    await waitFor(() => dropLogs().length === 1, 'the deep frame was dropped and logged');
    expect(dropLogs()[0]).toMatch(/nested too deep at byte 64$/);
    await roundTrip(c, '"after"');
    expect(seen().length).toBe(before + 1);
    expect(c.closed).toBe(false);
  });

  it('drops invalid JSON (logged with the byte offset) without closing the channel', async () => {
    tb = await startBroker({ plugin: [FILTER, fixture('msgpack-echo')], ...modeOpts });
    const c = await connect();
    // (An empty frame is a heartbeat, answered by the broker itself: it never reaches a plugin.)
    const invalid = [
      '   ',
      '{',
      '[1,]',
      '{"a" 1}',
      "{'a':1}",
      'nul',
      '01',
      '1.',
      '-',
      '1e',
      '"unterminated',
      '"bad \\x escape"',
      '"raw \n newline"',
      '"\\ud800 lone surrogate"',
      '1 2',
      'NaN',
    ];
    for (const text of invalid) c.send(text);
    c.send(Buffer.from([0x22, 0xff, 0x22])); // a string that is not UTF-8
    await roundTrip(c, '{"still":"open"}');
    expect(dropLogs()).toHaveLength(invalid.length + 1);
    expect(dropLogs()[1]).toBe('json-msgpack: dropped a client frame (invalid JSON) on channel 1: syntax error at byte 1');
    expect(dropLogs().at(-1)).toMatch(/invalid UTF-8 at byte 1$/);
    expect(seen()).toHaveLength(1);
    expect(c.closed).toBe(false);
  });

  it('drops a reply from the application that is not one msgpack value with a JSON form', async () => {
    tb = await startBroker({ plugin: [FILTER, fixture('msgpack-echo')], ...modeOpts });
    const c = await connect();
    c.send(JSON.stringify('!\u0091')); // the application answers c2 91: false and a stray byte
    await waitFor(() => dropLogs().length === 1, 'the reply was dropped');
    expect(dropLogs()[0]).toMatch(/^json-msgpack: dropped a frame to the client .* trailing bytes at byte 1$/);
    await roundTrip(c, '[1]');
    expect(c.closed).toBe(false);
  });

  it('converts a group frame from the application to JSON once, for every member', async () => {
    tb = await startBroker({ plugin: [FILTER, fixture('msgpack-echo')], ...modeOpts });
    const a = await connect();
    const b = await connect();
    a.send('"g-a joins"');
    expect(JSON.parse((await a.readFrame()).toString('utf8'))).toBe('g-a joins');
    b.send(String.raw`"g\u00e9 \"b\" joins"`);
    expect(JSON.parse((await a.readFrame()).toString('utf8'))).toBe('gé "b" joins');
    expect(JSON.parse((await b.readFrame()).toString('utf8'))).toBe('gé "b" joins');
    expect(dropLogs()).toEqual([]);
  });
});
