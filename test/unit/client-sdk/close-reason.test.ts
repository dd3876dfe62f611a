/** Close codes map back to the broker's close reasons (client-sdk-ts/src/close-reason.ts). */
import { describe, expect, it } from 'vitest';
import { CLOSE_REASONS, closeCodeForReason, reasonFromCloseCode, TERMINAL_REASONS } from '../../../client-sdk-ts/src/close-reason.js';
import { CLOSE_REASONS as BROKER_CLOSE_REASONS } from '../../../host/plugin/world.js';

describe('close reasons', () => {
  it('lists the broker’s close-reason enum in its WIT order (the discriminants)', () => {
    expect([...CLOSE_REASONS]).toEqual([...BROKER_CLOSE_REASONS]);
    expect(CLOSE_REASONS[10]).toBe('closed-by-operator');
  });

  it('maps 4000 + discriminant to the reason and back', () => {
    expect(reasonFromCloseCode(4000)).toBe('peer-closed');
    expect(reasonFromCloseCode(4003)).toBe('refused-by-plugin');
    expect(reasonFromCloseCode(4009)).toBe('shutdown');
    expect(reasonFromCloseCode(4010)).toBe('closed-by-operator');
    for (const r of CLOSE_REASONS) expect(reasonFromCloseCode(closeCodeForReason(r))).toBe(r);
  });

  it('gives no reason for codes outside the broker’s table', () => {
    for (const code of [1000, 1001, 1006, 1011, 3999, 4011, 4099, 4999, NaN]) expect(reasonFromCloseCode(code)).toBeUndefined();
  });

  it('reads the RFC 6455 codes ws answers a protocol violation with (1002, 1007, 1009) as protocol-error', () => {
    for (const code of [1002, 1007, 1009]) expect(reasonFromCloseCode(code)).toBe('protocol-error');
  });

  it('treats refused-by-plugin, auth-timeout and protocol-error as terminal', () => {
    expect([...TERMINAL_REASONS].sort()).toEqual(['auth-timeout', 'protocol-error', 'refused-by-plugin']);
  });
});
