/**
 * Options from `PLUGBROKER_*` environment variables: names derived from the flags, text read like
 * a flag's, repeatable options as whitespace-separated items, typos refused.
 */
import { describe, expect, it } from 'vitest';
import { readEnvOptions } from '../../host/config/env.js';
import { validateOptions } from '../../host/config.js';

describe('environment options', () => {
  it('reads PLUGBROKER_<FLAG> with underscores, numbers as numbers', () => {
    const env = readEnvOptions({ PLUGBROKER_MAX_FRAME_BYTES: '4096', PLUGBROKER_RATE_ACTION: 'drop', PLUGBROKER_RATE_BURST: '0.5', PATH: '/bin' });
    expect(env.errors).toEqual([]);
    expect(env.values).toEqual({ maxFrameBytes: 4096, rateAction: 'drop', rateBurst: 0.5 });
    expect(env.sources).toEqual({ maxFrameBytes: { kind: 'env' }, rateAction: { kind: 'env' }, rateBurst: { kind: 'env' } });
  });

  it('reads a repeatable option as whitespace-separated items', () => {
    const env = readEnvOptions({ PLUGBROKER_UPSTREAM: 'logic=127.0.0.1:7001,127.0.0.1:7002/least-connections  chat=h:1' });
    expect(env.values).toEqual({ upstream: { logic: '127.0.0.1:7001,127.0.0.1:7002/least-connections', chat: 'h:1' } });
  });

  it('names the variable when its value is out of domain', () => {
    const env = readEnvOptions({ PLUGBROKER_PORT: 'eighty' });
    const r = validateOptions({ plugin: 'p.wasm', ...env.values }, { plugin: { kind: 'flag' }, ...env.sources });
    expect(r.errors.map((e) => [e.code, e.message])).toEqual([['PB_ERR_INVALID_OPTION', 'PLUGBROKER_PORT must be an integer from 0 to 65535, got "eighty"']]);
  });

  it('refuses a PLUGBROKER_ variable that is no option, with the closest name', () => {
    const env = readEnvOptions({ PLUGBROKER_MAX_FRAME_BYTE: '1' });
    expect(env.errors.map((e) => [e.code, e.message])).toEqual([
      ['PB_ERR_UNKNOWN_OPTION', 'PLUGBROKER_MAX_FRAME_BYTE is not an option variable (did you mean PLUGBROKER_MAX_FRAME_BYTES?)'],
    ]);
  });

  it('names the variable for an upstream entry without name=', () => {
    const env = readEnvOptions({ PLUGBROKER_UPSTREAM: '127.0.0.1:7001' });
    expect(env.errors.map((e) => e.code)).toEqual(['PB_ERR_INVALID_OPTION']);
    expect(env.errors[0].message).toMatch(/^PLUGBROKER_UPSTREAM must be name=host:port/);
  });

  it('ignores the variables that are not options, and empty ones', () => {
    const env = readEnvOptions({ PLUGBROKER_DEBUG: '1', PLUGBROKER_CONFIG: '/etc/b.yaml', PLUGBROKER_PORT: '' });
    expect(env).toEqual({ values: {}, sources: {}, errors: [] });
  });
});
