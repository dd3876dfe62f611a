import { describe, expect, it } from 'vitest';
import { ConnectionRegistry } from '../../../host/connection/registry.js';
import { createGroupsInterface, isValidGroupName, routerGroupsTarget, type GroupsTarget } from '../../../host/host-api/groups.js';
import { Router } from '../../../host/routing/router.js';

describe('groups host API', () => {
  it('accepts names of 1 to 256 UTF-8 bytes only', () => {
    expect(isValidGroupName('')).toBe(false);
    expect(isValidGroupName('a')).toBe(true);
    expect(isValidGroupName('x'.repeat(256))).toBe(true);
    expect(isValidGroupName('x'.repeat(257))).toBe(false);
    expect(isValidGroupName('é'.repeat(128))).toBe(true);
    expect(isValidGroupName('é'.repeat(129))).toBe(false);
  });

  it('refuses to join a channel that does not exist', () => {
    const g = createGroupsInterface(routerGroupsTarget(new Router(new ConnectionRegistry())), { maxFrameBytes: 16 });
    expect(g.groupJoin('room', 42)).toBe(false);
    expect(g.groupSize('room')).toBe(0);
  });

  it('sends a payload of exactly maxFrameBytes and nothing for one above, without reaching the target (#14)', () => {
    // A target with one member in "room" that records what reaches it: an empty router would return 0
    // for any payload, so it could not tell the size check from an empty group.
    const sent: number[] = [];
    const target: GroupsTarget = {
      join: () => true,
      leave: () => true,
      send: (_group, _src, start, end) => (sent.push(end - start), 1),
      size: () => 1,
    };
    const g = createGroupsInterface(target, { maxFrameBytes: 16 });
    const memory = Buffer.alloc(64);
    expect(g.groupSend('room', memory, 8, 24, 0)).toBe(1);
    expect(g.groupSend('room', memory, 8, 25, 0)).toBe(0);
    expect(sent).toEqual([16]);
  });
});
