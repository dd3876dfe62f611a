import { describe, expect, it } from 'vitest';
import { ConnectionRegistry } from '../../../host/connection/registry.js';
import { createGroupsInterface, isValidGroupName, routerGroupsTarget } from '../../../host/host-api/groups.js';
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

  it('sends nothing for a payload above maxFrameBytes', () => {
    const g = createGroupsInterface(routerGroupsTarget(new Router(new ConnectionRegistry())), { maxFrameBytes: 16 });
    expect(g.groupSend('room', Buffer.alloc(17), 0, 17, 0)).toBe(0);
  });
});
