import { describe, expect, it } from 'vitest';
import { AdminToken, isLoopbackHost } from '../../../host/admin/auth.js';

describe('AdminToken', () => {
  const token = new AdminToken('s3cret-token');

  it('accepts the bearer token, whatever the case of the scheme', () => {
    expect(token.accepts('Bearer s3cret-token')).toBe(true);
    expect(token.accepts('bearer s3cret-token')).toBe(true);
  });

  it.each([
    undefined,
    '',
    'Bearer',
    'Bearer ',
    'Bearer s3cret-toke',
    'Bearer s3cret-token2',
    'Basic s3cret-token',
    's3cret-token',
    'Bearer s3cret-token extra',
  ])('refuses %j', (header) => {
    expect(token.accepts(header)).toBe(false);
  });
});

describe('isLoopbackHost', () => {
  it.each(['127.0.0.1', '127.1.2.3', '::1', '[::1]', 'localhost', 'LOCALHOST', '::ffff:127.0.0.1'])('%s is loopback', (h) => {
    expect(isLoopbackHost(h)).toBe(true);
  });
  it.each(['0.0.0.0', '::', '10.0.0.1', '192.168.1.5', 'example.com', '128.0.0.1', '::ffff:10.0.0.1'])('%s is not', (h) => {
    expect(isLoopbackHost(h)).toBe(false);
  });
});
