import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readAdminToken } from '../../../host/admin/auth.js';
import { resolveOptions } from '../../../host/config.js';

const base = { plugin: 'x.wasm' };
const dir = mkdtempSync(join(tmpdir(), 'pb-admin-opts-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const invalid = (option: string) => expect.objectContaining({ code: 'PB_ERR_INVALID_OPTION', option });

describe('admin options (#11)', () => {
  it('has no admin listener by default', () => {
    const o = resolveOptions(base);
    expect(o.adminListen).toBeUndefined();
    expect(o.adminToken).toBeUndefined();
    expect(o.closeSummaryIntervalMs).toBe(10_000);
  });

  it('parses host:port and [v6]:port, port 0 included', () => {
    expect(resolveOptions({ ...base, adminListen: '127.0.0.1:9100' }).adminListen).toEqual({ host: '127.0.0.1', port: 9100 });
    expect(resolveOptions({ ...base, adminListen: '[::1]:0' }).adminListen).toEqual({ host: '::1', port: 0 });
    expect(resolveOptions({ ...base, adminListen: 'localhost:1' }).adminListen).toEqual({ host: 'localhost', port: 1 });
  });

  it.each(['9100', ':9100', '127.0.0.1', '127.0.0.1:', '127.0.0.1:65536', '127.0.0.1:x', '::1:9100', 'a b:1'])(
    'refuses adminListen %j, naming the flag',
    (adminListen) => {
      let err: unknown;
      try {
        resolveOptions({ ...base, adminListen });
      } catch (e) {
        err = e;
      }
      expect(err).toEqual(invalid('adminListen'));
      expect((err as Error).message).toContain('--admin-listen');
    },
  );

  it('refuses a non-loopback admin address without a token', () => {
    expect(() => resolveOptions({ ...base, adminListen: '0.0.0.0:9100' })).toThrow(invalid('adminListen'));
    expect(resolveOptions({ ...base, adminListen: '0.0.0.0:9100', adminToken: 'tok-123' }).adminToken).toBe('tok-123');
    expect(resolveOptions({ ...base, adminListen: '0.0.0.0:9100', adminTokenFile: 'token.txt' }).adminTokenFile).toBe('token.txt');
  });

  it('refuses both a token and a token file', () => {
    expect(() => resolveOptions({ ...base, adminListen: '127.0.0.1:0', adminToken: 'a', adminTokenFile: 'f' })).toThrow(invalid('adminTokenFile'));
  });

  it.each(['', 'has space', 'tab\there', 'naïve'])('refuses the token %j, without echoing it', (adminToken) => {
    let err: unknown;
    try {
      resolveOptions({ ...base, adminListen: '127.0.0.1:0', adminToken });
    } catch (e) {
      err = e;
    }
    expect(err).toEqual(invalid('adminToken'));
    if (adminToken !== '') expect((err as Error).message).not.toContain(adminToken);
  });

  it('refuses a token without an admin listener', () => {
    expect(() => resolveOptions({ ...base, adminToken: 'tok' })).toThrow(invalid('adminToken'));
    expect(() => resolveOptions({ ...base, adminTokenFile: 'tok.txt' })).toThrow(invalid('adminTokenFile'));
  });

  it('refuses a negative close summary interval', () => {
    expect(() => resolveOptions({ ...base, closeSummaryIntervalMs: -1 })).toThrow(invalid('closeSummaryIntervalMs'));
    expect(resolveOptions({ ...base, closeSummaryIntervalMs: 0 }).closeSummaryIntervalMs).toBe(0);
  });
});

describe('readAdminToken', () => {
  it('reads the token file, dropping one trailing newline', async () => {
    const file = join(dir, 'token');
    writeFileSync(file, 'from-file\n');
    expect(await readAdminToken({ adminTokenFile: file })).toBe('from-file');
    expect(await readAdminToken({ adminToken: 'given' })).toBe('given');
    expect(await readAdminToken({})).toBeUndefined();
  });

  it('refuses a missing file or one that holds no valid token, naming --admin-token-file', async () => {
    const bad = join(dir, 'bad');
    writeFileSync(bad, 'two words\n');
    for (const adminTokenFile of [join(dir, 'nope'), bad]) {
      const err = await readAdminToken({ adminTokenFile }).catch((e: unknown) => e);
      expect(err).toEqual(invalid('adminTokenFile'));
      expect((err as Error).message).toContain('--admin-token-file');
      expect((err as Error).message).not.toContain('two words');
    }
  });
});
