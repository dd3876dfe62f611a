/**
 * Unit tests of the connection lifecycle table: every one of the 16 (from, to) pairs.
 */
import { describe, expect, it } from 'vitest';
import { isLive, transition, type ConnectionState } from '../../../host/connection/connection-state.js';

const STATES: readonly ConnectionState[] = ['connecting', 'open', 'closing', 'closed'];

const ALLOWED = new Set([
  'connecting→open',
  'connecting→closing', // the plugin refused the connection
  'connecting→closed', // the peer vanished before handle-connect returned
  'open→closing',
  'open→closed',
  'closing→closed',
]);

const PAIRS = STATES.flatMap((from) => STATES.map((to) => [from, to] as const));

describe('transition', () => {
  it.each(PAIRS.filter(([from, to]) => ALLOWED.has(`${from}→${to}`)))('allows %s → %s and returns the new state', (from, to) => {
    expect(transition(from, to)).toBe(to);
  });

  it.each(PAIRS.filter(([from, to]) => !ALLOWED.has(`${from}→${to}`)))('throws on %s → %s', (from, to) => {
    expect(() => transition(from, to)).toThrow(Error);
  });

  it('walks the normal life connecting → open → closing → closed', () => {
    let state: ConnectionState = 'connecting';
    for (const next of ['open', 'closing', 'closed'] as const) state = transition(state, next);
    expect(state).toBe('closed');
  });

  it('makes closed terminal: nothing leaves it', () => {
    for (const to of STATES) expect(() => transition('closed', to)).toThrow();
  });
});

describe('isLive', () => {
  it.each([
    ['connecting', true],
    ['open', true],
    ['closing', false],
    ['closed', false],
  ] as const)('says %s is live: %s', (state, live) => {
    expect(isLive(state)).toBe(live);
  });
});
