/**
 * The option schema as the single source: every option's flag, file key, variable, default, help
 * line and JSON Schema entry come from it, and the commander flags of `broker serve` cannot drift
 * from it. Also the rules between options and the messages that name a value as it was written.
 */
import { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import {
  DEFAULTS,
  OPTION_DEFS,
  OPTIONS_SCHEMA,
  describeSchema,
  resolveOptions,
  validateOptions,
  type BrokerOptions,
  type OptionKey,
} from '../../host/config.js';
import { configJsonSchema } from '../../host/config/json-schema.js';
import { addOptionFlags, optionHelp } from '../../host/cli/serve-flags.js';
import { InvalidOptionError } from '../../host/errors.js';

const PLUGIN = 'p.wasm';

function errorOf(fn: () => unknown): InvalidOptionError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(InvalidOptionError);
    return err as InvalidOptionError;
  }
  return expect.unreachable('expected an InvalidOptionError');
}

describe('option schema', () => {
  it('derives flag, file key and environment variable from each option name', () => {
    const d = OPTION_DEFS.find((x) => x.key === 'maxConnectionsPerIp')!;
    expect(d).toMatchObject({ flag: '--max-connections-per-ip', fileKey: 'max-connections-per-ip', envVar: 'PLUGBROKER_MAX_CONNECTIONS_PER_IP' });
    for (const def of OPTION_DEFS) {
      expect(def.flag).toBe(`--${def.fileKey}`);
      expect(def.envVar).toBe(`PLUGBROKER_${def.fileKey.replaceAll('-', '_').toUpperCase()}`);
      expect(def.meta.help.length).toBeGreaterThan(0);
      expect(['live', 'swap', 'restart']).toContain(def.meta.reload);
    }
  });

  it('is the source of the library type: every schema key is a BrokerOptions field and the other way round', () => {
    const keys = Object.keys(OPTIONS_SCHEMA.shape).sort();
    expect(OPTION_DEFS.map((d) => d.key).sort()).toEqual(keys);
    // A compile-time check as well: a BrokerOptions with every field set type-checks.
    const all: Required<Omit<BrokerOptions, 'logger'>> = {
      plugin: PLUGIN,
      pluginConfig: '',
      isolation: 'worker',
      pluginCallBudgetMs: 1,
      pluginCallFuel: 0,
      channelDataMaxBytes: 4096,
      record: 'session.jsonl',
      recordMaxBytes: 1024,
      recordOmitPayloads: false,
      pluginMemoryMaxMb: 1,
      onPluginFailure: 'close',
      host: 'h',
      port: 0,
      listen: ['ws://127.0.0.1:0/'],
      tlsCert: 'cert.pem',
      tlsKey: 'key.pem',
      wsCompression: true,
      wsAllowedOrigins: [],
      handshakeTimeoutMs: 1,
      listenBacklog: 1,
      maxFrameBytes: 1,
      maxOutboundBytes: 1,
      pingIntervalMs: 0,
      idleTimeoutMs: 0,
      authDeadlineMs: 0,
      preAuthMaxFrames: 1,
      preAuthMaxBytes: 0,
      rateFrames: 0,
      rateBytes: 0,
      rateBurst: 1,
      rateAction: 'drop',
      maxConnections: 0,
      maxConnectionsPerIp: 0,
      acceptRatePerIp: 0,
      drainTimeoutMs: 0,
      upstream: {},
      cluster: 'nats://127.0.0.1:4333',
      nodeId: 'n1',
      clusterName: 'c',
      processes: 2,
      clusterPresenceIntervalMs: 100,
      logLevel: 'info',
      adminListen: '127.0.0.1:0',
      adminToken: 'token',
      adminTokenFile: 'token.txt',
      closeSummaryIntervalMs: 0,
    };
    expect(Object.keys(all).sort()).toEqual(keys);
    // host/port and listen exclude each other, and a certificate needs a tls:// or wss:// listener (#10).
    expect(resolveOptions({ ...all, host: undefined, port: undefined, tlsCert: undefined, tlsKey: undefined, adminTokenFile: undefined })).toMatchObject({
      isolation: 'worker',
      rateAction: 'drop',
    });
  });

  it('gives every option with a default that default in DEFAULTS, and that value passes its own schema', () => {
    for (const def of OPTION_DEFS) {
      if (def.meta.default === undefined) continue;
      expect(DEFAULTS[def.key as keyof typeof DEFAULTS]).toEqual(def.meta.default);
      expect(def.schema.safeParse(def.meta.default).success).toBe(true);
    }
  });

  it('describes each domain in words', () => {
    const d = (k: OptionKey) => describeSchema(OPTION_DEFS.find((x) => x.key === k)!.schema);
    expect(d('port')).toBe('an integer from 0 to 65535');
    expect(d('rateFrames')).toBe('a non-negative integer');
    expect(d('preAuthMaxFrames')).toBe('a positive integer');
    expect(d('rateBurst')).toBe('a number above 0 and at most 3600');
    expect(d('rateAction')).toBe('one of close, drop');
    expect(d('host')).toBe('a non-empty string');
  });
});

describe('broker serve flags', () => {
  const cmd = addOptionFlags(new Command('serve'));

  it('has exactly one flag per option, whose commander attribute is the option name (they cannot drift)', () => {
    const byLong = new Map(cmd.options.map((o) => [o.long, o]));
    expect(cmd.options).toHaveLength(OPTION_DEFS.length);
    for (const def of OPTION_DEFS) {
      const option = byLong.get(def.flag);
      expect(option, def.flag).toBeDefined();
      expect(option!.attributeName()).toBe(def.key);
      expect(option!.description).toBe(optionHelp(def));
      // No commander default: a default must not pass for something the user typed.
      expect(option!.defaultValue).toBeUndefined();
    }
  });

  it('states each default and each choice in the help line, and marks the required flag', () => {
    const help = (k: OptionKey) => optionHelp(OPTION_DEFS.find((x) => x.key === k)!);
    expect(help('port')).toMatch(/\(default: 10241\)$/);
    expect(help('rateAction')).toMatch(/\(choices: close, drop; default: close\)$/);
    expect(help('plugin')).toMatch(/^\(required\) /);
    expect(help('upstream')).toMatch(/repeatable\)$/);
    expect(help('maxOutboundBytes')).toContain('twice --max-frame-bytes');
  });

  it('reads numbers from text and leaves other text for the schema to refuse', () => {
    const c = addOptionFlags(new Command('serve')).exitOverride();
    c.parse(['--port', '8080', '--rate-burst', '0.5', '--host', '::1', '--upstream', 'a=h:1', '--upstream', 'b=h:2/least-connections'], { from: 'user' });
    expect(c.opts()).toEqual({ port: 8080, rateBurst: 0.5, host: '::1', upstream: { a: 'h:1', b: 'h:2/least-connections' } });
    const d = addOptionFlags(new Command('serve')).exitOverride();
    d.parse(['--port', 'ten'], { from: 'user' });
    expect(d.opts().port).toBe('ten');
  });
});

describe('JSON Schema of the config file', () => {
  const schema = configJsonSchema() as {
    properties: Record<string, { default?: unknown; description?: string; type?: string }>;
    additionalProperties: boolean;
  };

  it('has one property per option, keyed by the flag without dashes, with its description and default', () => {
    for (const def of OPTION_DEFS) {
      const p = schema.properties[def.fileKey];
      expect(p, def.fileKey).toBeDefined();
      expect(p.description).toBe(def.meta.help);
      if (def.meta.default !== undefined) expect(p.default).toEqual(def.meta.default);
    }
    expect(schema.properties['max-frame-bytes']).toMatchObject({ type: 'integer', minimum: 1, default: 1048576 });
  });

  it('refuses unknown keys', () => {
    expect(schema.additionalProperties).toBe(false);
  });

  it('is plain JSON', () => {
    expect(JSON.parse(JSON.stringify(schema))).toEqual(schema);
  });
});

describe('rules between options', () => {
  it('refuses --plugin-call-budget-ms outside worker isolation, naming the flag', () => {
    const lib = errorOf(() => resolveOptions({ plugin: PLUGIN, pluginCallBudgetMs: 200 }));
    expect(lib.option).toBe('pluginCallBudgetMs');
    expect(lib.message).toContain("set only with 'isolation' worker");
    const cli = validateOptions({ plugin: PLUGIN, pluginCallBudgetMs: 200 }, { plugin: { kind: 'flag' }, pluginCallBudgetMs: { kind: 'flag' } });
    expect(cli.errors[0].message).toBe('--plugin-call-budget-ms must be set only with --isolation worker (inline mode cannot preempt a plugin call), got 200');
    expect(resolveOptions({ plugin: PLUGIN, pluginCallBudgetMs: 200, isolation: 'worker' }).pluginCallBudgetMs).toBe(200);
  });

  it('refuses an idle timeout at or below the ping interval', () => {
    const err = errorOf(() => resolveOptions({ plugin: PLUGIN, pingIntervalMs: 1000, idleTimeoutMs: 1000 }));
    expect(err.option).toBe('idleTimeoutMs');
    expect(resolveOptions({ plugin: PLUGIN, pingIntervalMs: 1000, idleTimeoutMs: 1001 }).idleTimeoutMs).toBe(1001);
    expect(resolveOptions({ plugin: PLUGIN, pingIntervalMs: 0, idleTimeoutMs: 5 }).idleTimeoutMs).toBe(5);
  });

  it('names each option of a rule the way its own source spelled it', () => {
    const r = validateOptions(
      { plugin: PLUGIN, maxFrameBytes: 4096, maxOutboundBytes: 100 },
      { plugin: { kind: 'flag' }, maxFrameBytes: { kind: 'env' }, maxOutboundBytes: { kind: 'flag' } },
    );
    expect(r.errors.map((e) => e.message)).toEqual([
      '--max-outbound-bytes must be at least PLUGBROKER_MAX_FRAME_BYTES (4096) so that one full frame fits, got 100',
    ]);
  });
});

describe('resolveOptions', () => {
  it('returns options it resolved itself unchanged (createBroker does not validate twice)', () => {
    const o = resolveOptions({ plugin: PLUGIN });
    expect(resolveOptions(o)).toBe(o);
  });

  it('has no pluginCallFuel when none is given', () => {
    expect('pluginCallFuel' in resolveOptions({ plugin: PLUGIN })).toBe(false);
    expect(resolveOptions({ plugin: PLUGIN, pluginCallFuel: 1000 }).pluginCallFuel).toBe(1000);
  });

  it('collects every invalid field in validateOptions', () => {
    const r = validateOptions({ plugin: PLUGIN, port: -1, maxFrameBytes: 'x', logLevel: 'loud' });
    expect(r.options).toBeUndefined();
    expect(r.errors.map((e) => (e as InvalidOptionError).option)).toEqual(['port', 'maxFrameBytes', 'logLevel']);
    expect(r.errors.every((e) => e.code === 'PB_ERR_INVALID_OPTION')).toBe(true);
  });
});
