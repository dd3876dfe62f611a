/**
 * The config file (`broker serve --config`): YAML or JSON, keys = flags without dashes, every
 * problem named by file, line and key path, unknown keys refused, relative paths anchored at the
 * file's folder.
 */
import { describe, expect, it } from 'vitest';
import { parseConfigText } from '../../host/config/file.js';
import { validateOptions, type OptionSources } from '../../host/config.js';
import { ConfigFileError, UnknownOptionError, type BrokerError } from '../../host/errors.js';

const FILE = '/etc/plugbroker/broker.yaml';

/** Parses `text` and validates it (with a plugin, so that only the file's own problems show). */
function check(text: string): { values: Record<string, unknown>; errors: BrokerError[] } {
  const f = parseConfigText(FILE, text);
  const r = validateOptions({ plugin: '/p.wasm', ...f.values }, f.sources as OptionSources);
  return { values: f.values, errors: [...f.errors, ...r.errors] };
}

function syntaxError(text: string): ConfigFileError {
  try {
    parseConfigText(FILE, text);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigFileError);
    return err as ConfigFileError;
  }
  return expect.unreachable('expected a ConfigFileError');
}

describe('config file', () => {
  it('maps keys (flags without dashes) to options, lists and maps included', () => {
    const f = parseConfigText(
      FILE,
      [
        'max-frame-bytes: 4096',
        'ping-interval-ms: 15000',
        'rate-action: drop',
        'upstream:',
        '  logic:',
        '    nodes: [127.0.0.1:7001, "[::1]:7002", { host: b, port: 7003 }]',
        '    policy: least-connections',
        '  chat: 127.0.0.1:7004/consistent-hash',
      ].join('\n'),
    );
    expect(f.errors).toEqual([]);
    expect(f.values).toEqual({
      maxFrameBytes: 4096,
      pingIntervalMs: 15000,
      rateAction: 'drop',
      upstream: {
        logic: { nodes: ['127.0.0.1:7001', '[::1]:7002', { host: 'b', port: 7003 }], policy: 'least-connections' },
        chat: '127.0.0.1:7004/consistent-hash',
      },
    });
    const r = validateOptions({ plugin: '/p.wasm', ...f.values });
    expect(r.options!.upstream).toEqual({
      logic: {
        nodes: [
          { host: '127.0.0.1', port: 7001 },
          { host: '::1', port: 7002 },
          { host: 'b', port: 7003 },
        ],
        policy: 'least-connections',
      },
      chat: { nodes: [{ host: '127.0.0.1', port: 7004 }], policy: 'consistent-hash' },
    });
  });

  it('reads JSON, which is YAML', () => {
    expect(parseConfigText(FILE, '{ "port": 0, "log-level": "warn", "$schema": "./broker.schema.json" }').values).toEqual({ port: 0, logLevel: 'warn' });
  });

  it('treats an empty file and a key without a value as absent', () => {
    expect(parseConfigText(FILE, '').values).toEqual({});
    expect(parseConfigText(FILE, '# nothing yet\n').values).toEqual({});
    expect(parseConfigText(FILE, 'port:\nhost: ::1\n').values).toEqual({ host: '::1' });
  });

  it('anchors relative paths at the file folder', () => {
    const f = parseConfigText(FILE, 'plugin: plugins/echo.wasm\nplugin-config: "@secrets/app.txt"\n');
    expect(f.values).toEqual({ plugin: '/etc/plugbroker/plugins/echo.wasm', pluginConfig: '@/etc/plugbroker/secrets/app.txt' });
    expect(parseConfigText(FILE, 'plugin: /srv/x.wasm\nplugin-config: plain text\n').values).toEqual({ plugin: '/srv/x.wasm', pluginConfig: 'plain text' });
  });

  it('names file, line and key for a wrong type', () => {
    const { errors } = check('port: 0\nmax-frame-bytes: "1048576"\n');
    expect(errors.map((e) => [e.code, e.message])).toEqual([
      ['PB_ERR_INVALID_OPTION', `${FILE}:2 max-frame-bytes: must be an integer from 1 to 268435456, got "1048576"`],
    ]);
  });

  it('names the key path and line of a bad value deep inside a map', () => {
    const { errors } = check(['upstream:', '  logic:', '    nodes:', '      - 127.0.0.1:7001', '      - 127.0.0.1', '    policy: fastest'].join('\n'));
    expect(errors.map((e) => e.message)).toEqual([
      `${FILE}:5 upstream.logic.nodes[1]: must be host:port with a port from 1 to 65535, got "127.0.0.1"`,
      `${FILE}:6 upstream.logic.policy: must be one of round-robin, least-connections, consistent-hash, got "fastest"`,
    ]);
  });

  it('refuses an unknown key with its line and the closest key (a typo)', () => {
    const { errors } = check('port: 0\nmax-frame-byte: 10\n');
    expect(errors).toHaveLength(1);
    expect(errors[0]).toBeInstanceOf(UnknownOptionError);
    expect(errors[0].message).toBe(`${FILE}:2 max-frame-byte: is not an option (did you mean max-frame-bytes?)`);
  });

  it('refuses an unknown key inside a structured value', () => {
    const { errors } = check('upstream:\n  logic:\n    nodes: [a:1]\n    polcy: round-robin\n');
    expect(errors.map((e) => [e.code, e.message])).toEqual([
      ['PB_ERR_UNKNOWN_OPTION', `${FILE}:4 upstream.logic.polcy: is not a key here (did you mean policy?)`],
    ]);
  });

  it('refuses camelCase keys, suggesting the file spelling', () => {
    const { errors } = check('maxFrameBytes: 10\n');
    expect(errors[0].code).toBe('PB_ERR_UNKNOWN_OPTION');
    expect(errors[0].message).toContain('did you mean max-frame-bytes?');
  });

  it('reports malformed YAML as a syntax error with its line', () => {
    const err = syntaxError('port: 0\nlisten: [a\nhost: b\n');
    expect(err.code).toBe('PB_ERR_CONFIG_SYNTAX');
    expect(err.line).toBeGreaterThanOrEqual(2);
    expect(err.message.startsWith(`${FILE}:`)).toBe(true);
    expect(err.message.split('\n')).toHaveLength(1);
  });

  it('reports a duplicated key as a syntax error', () => {
    const err = syntaxError('port: 1\nport: 2\n');
    expect(err).toMatchObject({ code: 'PB_ERR_CONFIG_SYNTAX', line: 2 });
  });

  it('reports a file that is not a map', () => {
    expect(syntaxError('- port\n- host\n')).toMatchObject({ code: 'PB_ERR_CONFIG_SYNTAX', line: 1 });
    expect(syntaxError('just text\n').code).toBe('PB_ERR_CONFIG_SYNTAX');
  });
});
