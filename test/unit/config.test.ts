/**
 * Unit tests of option resolution: defaults, one InvalidOptionError per bad field naming it, the
 * cross-field rule, and a frozen result.
 */
import type { Logger } from 'pino';
import { describe, expect, it } from 'vitest';
import { DEFAULTS, LOG_LEVELS, resolveOptions, type BrokerOptions } from '../../host/config.js';
import { BrokerError, InvalidOptionError, UnknownOptionError } from '../../host/errors.js';
import { defaultNodeId } from '../../host/cluster/cluster-options.js';
import {
  DEFAULT_HOST,
  DEFAULT_LISTEN_BACKLOG,
  DEFAULT_MAX_FRAME_BYTES,
  DEFAULT_MAX_OUTBOUND_BYTES,
  DEFAULT_PORT,
  DEFAULT_DRAIN_TIMEOUT_MS,
  MAX_FRAME_BYTES_CEILING,
} from '../../host/limits.js';

const PLUGIN = 'plugins/echo-wasm/build/echo.wasm';

/** Runs `fn`, which must throw an InvalidOptionError, and returns that error. */
function invalidOption(fn: () => unknown): InvalidOptionError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(InvalidOptionError);
    expect(err).toBeInstanceOf(BrokerError);
    expect((err as InvalidOptionError).code).toBe('PB_ERR_INVALID_OPTION');
    return err as InvalidOptionError;
  }
  return expect.unreachable('expected an InvalidOptionError');
}

describe('resolveOptions', () => {
  describe('defaults', () => {
    it('fills every optional field with its documented default', () => {
      expect(resolveOptions({ plugin: PLUGIN })).toEqual({
        plugin: PLUGIN,
        pluginConfig: '',
        host: '127.0.0.1',
        port: 10241,
        listen: [{ scheme: 'tcp', host: '127.0.0.1', port: 10241, path: '', framing: 'decimal' }],
        tlsCert: undefined,
        tlsKey: undefined,
        tlsCredentials: undefined,
        wsCompression: false,
        wsAllowedOrigins: [],
        handshakeTimeoutMs: 10_000,
        maxFrameBytes: 1024 * 1024,
        maxOutboundBytes: 8 * 1024 * 1024,
        listenBacklog: 4096,
        drainTimeoutMs: 5000,
        pingIntervalMs: 15_000,
        idleTimeoutMs: 45_000,
        authDeadlineMs: 0,
        preAuthMaxFrames: 8,
        preAuthMaxBytes: 64 * 1024,
        rateFrames: 0,
        rateBytes: 0,
        rateBurst: 2,
        rateAction: 'close',
        maxConnections: 19_000,
        maxConnectionsPerIp: 0,
        acceptRatePerIp: 0,
        isolation: 'inline',
        onPluginFailure: 'reload',
        pluginCallBudgetMs: 1000,
        pluginMemoryMaxMb: 64,
        channelDataMaxBytes: 4096,
        recordMaxBytes: 64 * 1024 * 1024,
        recordOmitPayloads: false,
        upstream: {},
        cluster: [],
        nodeId: defaultNodeId(),
        clusterName: 'plugbroker',
        clusterPresenceIntervalMs: 2000,
        logLevel: 'info',
        closeSummaryIntervalMs: 10_000,
        logger: undefined,
      });
    });

    it('takes its defaults from the named constants in limits.ts', () => {
      expect(DEFAULTS).toMatchObject({
        host: DEFAULT_HOST,
        port: DEFAULT_PORT,
        maxFrameBytes: DEFAULT_MAX_FRAME_BYTES,
        maxOutboundBytes: DEFAULT_MAX_OUTBOUND_BYTES,
        listenBacklog: DEFAULT_LISTEN_BACKLOG,
        drainTimeoutMs: DEFAULT_DRAIN_TIMEOUT_MS,
      });
    });

    it('treats a field set to undefined as absent', () => {
      const o = resolveOptions({ plugin: PLUGIN, port: undefined, host: undefined, maxFrameBytes: undefined, logLevel: undefined });
      expect(o.port).toBe(DEFAULT_PORT);
      expect(o.host).toBe(DEFAULT_HOST);
      expect(o.maxFrameBytes).toBe(DEFAULT_MAX_FRAME_BYTES);
      expect(o.logLevel).toBe('info');
    });

    it('keeps every valid value it is given', () => {
      // Only passed through, never called: a stand-in keeps the test free of I/O.
      const logger = { level: 'silent' } as unknown as Logger;
      const opts: BrokerOptions = {
        plugin: PLUGIN,
        pluginConfig: 'greeting=hi',
        host: '::1',
        port: 0,
        maxFrameBytes: 64,
        maxOutboundBytes: 64,
        listenBacklog: 1,
        drainTimeoutMs: 0,
        logLevel: 'silent',
        logger,
      };
      expect(resolveOptions(opts)).toMatchObject(opts);
      expect(resolveOptions(opts).logger).toBe(logger);
    });

    it.each([
      ['port', 0],
      ['port', 65535],
      ['listenBacklog', 65535],
      ['drainTimeoutMs', 3_600_000],
      ['maxFrameBytes', 1],
    ] as const)('accepts %s at its bound %i', (option, value) => {
      expect(resolveOptions({ plugin: PLUGIN, [option]: value })[option]).toBe(value);
    });

    it('accepts maxFrameBytes at its ceiling when maxOutboundBytes is at least as large', () => {
      const o = resolveOptions({ plugin: PLUGIN, maxFrameBytes: MAX_FRAME_BYTES_CEILING, maxOutboundBytes: MAX_FRAME_BYTES_CEILING });
      expect(o.maxFrameBytes).toBe(MAX_FRAME_BYTES_CEILING);
    });

    it.each(LOG_LEVELS)('accepts the log level %s', (level) => {
      expect(resolveOptions({ plugin: PLUGIN, logLevel: level }).logLevel).toBe(level);
    });
  });

  describe('invalid options', () => {
    it.each<[string, unknown]>([
      ['plugin', undefined],
      ['plugin', ''],
      ['plugin', 42],
      ['pluginConfig', 42],
      ['pluginConfig', null],
      ['host', ''],
      ['host', 127001],
      ['port', -1],
      ['port', 65536],
      ['port', 80.5],
      ['port', Number.NaN],
      ['port', Number.POSITIVE_INFINITY],
      ['port', '10241'],
      ['port', null],
      ['maxFrameBytes', 0],
      ['maxFrameBytes', -1],
      ['maxFrameBytes', 1.5],
      ['maxFrameBytes', MAX_FRAME_BYTES_CEILING + 1],
      ['maxFrameBytes', '1048576'],
      ['maxOutboundBytes', 0],
      ['maxOutboundBytes', -1],
      ['maxOutboundBytes', 2.5e7 + 0.5],
      ['maxOutboundBytes', Number.MAX_SAFE_INTEGER + 1],
      ['listenBacklog', 0],
      ['listenBacklog', 65536],
      ['listenBacklog', 1.5],
      ['drainTimeoutMs', -1],
      ['drainTimeoutMs', 3_600_001],
      ['drainTimeoutMs', 0.5],
      ['logLevel', 'verbose'],
      ['logLevel', 'INFO'],
      ['logLevel', ''],
    ])('throws InvalidOptionError naming %s for the value %o', (option, value) => {
      const opts = { plugin: PLUGIN, [option]: value } as unknown as BrokerOptions;
      if (option === 'plugin' && value === undefined) delete (opts as Partial<BrokerOptions>).plugin;
      const err = invalidOption(() => resolveOptions(opts));
      expect(err.option).toBe(option);
      expect(err.value).toBe(value);
    });

    it("names a library caller's field and its flag in the message", () => {
      const err = invalidOption(() => resolveOptions({ plugin: PLUGIN, maxFrameBytes: 0 }));
      expect(err.message).toBe("'maxFrameBytes' (--max-frame-bytes) must be an integer from 1 to 268435456, got 0");
    });

    it('names the first invalid option when several are invalid', () => {
      const err = invalidOption(() => resolveOptions({ plugin: PLUGIN, port: -1, maxFrameBytes: 0 }));
      expect(err.option).toBe('port');
    });
  });

  describe('cross-field rules', () => {
    it('rejects maxOutboundBytes below maxFrameBytes, naming maxOutboundBytes', () => {
      const err = invalidOption(() => resolveOptions({ plugin: PLUGIN, maxFrameBytes: 4096, maxOutboundBytes: 4095 }));
      expect(err.option).toBe('maxOutboundBytes');
      expect(err.value).toBe(4095);
    });

    it('accepts maxOutboundBytes equal to maxFrameBytes, so that one full frame fits', () => {
      expect(resolveOptions({ plugin: PLUGIN, maxFrameBytes: 4096, maxOutboundBytes: 4096 }).maxOutboundBytes).toBe(4096);
    });

    it('raises the default maxOutboundBytes to twice a raised maxFrameBytes', () => {
      const o = resolveOptions({ plugin: PLUGIN, maxFrameBytes: DEFAULT_MAX_OUTBOUND_BYTES + 1 });
      expect(o.maxOutboundBytes).toBe(2 * (DEFAULT_MAX_OUTBOUND_BYTES + 1));
    });

    it('still checks a raised maxFrameBytes against an explicit maxOutboundBytes', () => {
      const err = invalidOption(() =>
        resolveOptions({ plugin: PLUGIN, maxFrameBytes: DEFAULT_MAX_OUTBOUND_BYTES + 1, maxOutboundBytes: DEFAULT_MAX_OUTBOUND_BYTES }),
      );
      expect(err.option).toBe('maxOutboundBytes');
      expect(err.value).toBe(DEFAULT_MAX_OUTBOUND_BYTES);
    });

    it('rejects an option name it does not know, suggesting the closest one (a typo is not silently ignored)', () => {
      let err: unknown;
      try {
        resolveOptions({ plugin: PLUGIN, maxFrameByte: 5 } as unknown as BrokerOptions);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(UnknownOptionError);
      expect(err).toMatchObject({ code: 'PB_ERR_UNKNOWN_OPTION', option: 'maxFrameByte', suggestion: "'maxFrameBytes'" });
    });

    it('checks a lowered maxOutboundBytes against the default maxFrameBytes', () => {
      const err = invalidOption(() => resolveOptions({ plugin: PLUGIN, maxOutboundBytes: DEFAULT_MAX_FRAME_BYTES - 1 }));
      expect(err.option).toBe('maxOutboundBytes');
    });
  });

  describe('result', () => {
    it('is frozen', () => {
      const o = resolveOptions({ plugin: PLUGIN });
      expect(Object.isFrozen(o)).toBe(true);
      expect(() => {
        (o as { port: number }).port = 1;
      }).toThrow(TypeError);
    });

    it('is a copy: changing the input afterwards does not change it', () => {
      const opts: BrokerOptions = { plugin: PLUGIN, port: 1234 };
      const o = resolveOptions(opts);
      opts.port = 4321;
      expect(o.port).toBe(1234);
    });

    it('leaves the input object and DEFAULTS unchanged', () => {
      const opts: BrokerOptions = { plugin: PLUGIN };
      resolveOptions(opts);
      expect(opts).toEqual({ plugin: PLUGIN });
      expect(Object.isFrozen(DEFAULTS)).toBe(true);
    });
  });
});
