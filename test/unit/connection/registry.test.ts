/**
 * Unit tests of channel-handle allocation and the handle → connection map. The registry only reads
 * `conn.id`, so plain stand-ins replace real connections: no socket is involved.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { Connection } from '../../../host/connection/connection.js';
import { ConnectionRegistry } from '../../../host/connection/registry.js';
import { MAX_CHANNEL_ID } from '../../../host/limits.js';

function fakeConnection(id: number): Connection {
  return { id } as unknown as Connection;
}

/** Allocates a handle and registers a stand-in connection under it, as the broker does. */
function open(registry: Pick<ConnectionRegistry, 'allocateId' | 'add'>): number {
  const id = registry.allocateId();
  registry.add(fakeConnection(id));
  return id;
}

describe('ConnectionRegistry', () => {
  describe('handle allocation', () => {
    it('uses the whole u32 space: MAX_CHANNEL_ID is 2^32 - 1', () => {
      expect(MAX_CHANNEL_ID).toBe(0xffff_ffff);
    });

    it('starts at 1, never 0', () => {
      expect(new ConnectionRegistry().allocateId()).toBe(1);
    });

    it('hands out strictly increasing non-zero handles', () => {
      const registry = new ConnectionRegistry();
      const ids = Array.from({ length: 10_000 }, () => open(registry));
      expect(ids.every((id, i) => id > 0 && (i === 0 || id > ids[i - 1]))).toBe(true);
    });

    it('does not give a closed connection’s handle to the next connection', () => {
      const registry = new ConnectionRegistry();
      const first = open(registry);
      registry.delete(first);
      expect(registry.allocateId()).not.toBe(first);
    });

    it('never reuses a handle before wrapping, even when every earlier connection has closed', () => {
      const registry = new ConnectionRegistry();
      const seen = new Set<number>();
      for (let i = 0; i < 10_000; i++) {
        const id = open(registry);
        seen.add(id);
        registry.delete(id);
      }
      expect(seen.size).toBe(10_000);
    });

    it('keeps registries independent', () => {
      const a = new ConnectionRegistry();
      const b = new ConnectionRegistry();
      open(a);
      open(a);
      expect(b.allocateId()).toBe(1);
    });
  });

  /*
   * The class offers no way to start its counter near the top of the u32 space, and reaching it
   * takes 2^32 allocations. These tests load the registry with MAX_CHANNEL_ID mocked to a small
   * value instead; the wrap logic is the same code path.
   */
  describe('wrap-around (MAX_CHANNEL_ID mocked to 5)', () => {
    const SMALL_MAX = 5;

    async function smallRegistry(): Promise<ConnectionRegistry> {
      vi.resetModules();
      vi.doMock('../../../host/limits.js', async (importOriginal) => ({
        ...(await importOriginal<typeof import('../../../host/limits.js')>()),
        MAX_CHANNEL_ID: SMALL_MAX,
      }));
      const mod = await import('../../../host/connection/registry.js');
      return new mod.ConnectionRegistry();
    }

    afterEach(() => {
      vi.doUnmock('../../../host/limits.js');
      vi.resetModules();
    });

    it('wraps from MAX_CHANNEL_ID back to 1, skipping 0', async () => {
      const registry = await smallRegistry();
      const ids = Array.from({ length: SMALL_MAX }, () => registry.allocateId());
      expect(ids).toEqual([1, 2, 3, 4, 5]);
      expect(registry.allocateId()).toBe(1);
    });

    it('skips handles reserved for a plugin worker after wrapping, until released', async () => {
      const registry = await smallRegistry();
      const reserved = registry.reserveId(); // 1
      for (let i = 0; i < SMALL_MAX - 1; i++) registry.allocateId(); // 2..5
      expect(registry.allocateId()).toBe(2); // wrapped past the reserved 1
      registry.releaseId(reserved);
      for (let i = 0; i < SMALL_MAX - 2; i++) registry.allocateId(); // 3..5
      expect(registry.allocateId()).toBe(1);
    });

    it('skips handles that are still live after wrapping', async () => {
      const registry = await smallRegistry();
      for (let i = 0; i < SMALL_MAX; i++) open(registry);
      registry.delete(2);
      registry.delete(4);
      expect(open(registry)).toBe(2);
      expect(open(registry)).toBe(4);
    });

    it('hands out only handles that are not live, whatever the order of closes', async () => {
      const registry = await smallRegistry();
      const live = new Set<number>();
      // A fixed pattern of opens and closes that wraps several times.
      for (let step = 0; step < 60; step++) {
        if (live.size < SMALL_MAX - 1) {
          const id = open(registry);
          expect(id).toBeGreaterThan(0);
          expect(id).toBeLessThanOrEqual(SMALL_MAX);
          expect(live.has(id)).toBe(false);
          live.add(id);
        }
        if (step % 3 === 0) {
          const victim = [...live][(step * 7) % live.size];
          registry.delete(victim);
          live.delete(victim);
        }
      }
    });

    it('throws when every handle is live instead of reusing one', async () => {
      const registry = await smallRegistry();
      for (let i = 0; i < SMALL_MAX; i++) open(registry);
      expect(() => registry.allocateId()).toThrow();
    });
  });

  describe('map', () => {
    it('finds a registered connection by its handle and counts it', () => {
      const registry = new ConnectionRegistry();
      const conn = fakeConnection(registry.allocateId());
      registry.add(conn);
      expect(registry.get(conn.id)).toBe(conn);
      expect(registry.size).toBe(1);
    });

    it('returns undefined for an unknown or deleted handle', () => {
      const registry = new ConnectionRegistry();
      const id = open(registry);
      expect(registry.get(id + 1)).toBeUndefined();
      expect(registry.get(0)).toBeUndefined();
      registry.delete(id);
      expect(registry.get(id)).toBeUndefined();
      expect(registry.size).toBe(0);
    });

    it('ignores deleting an unknown handle', () => {
      const registry = new ConnectionRegistry();
      open(registry);
      registry.delete(999);
      expect(registry.size).toBe(1);
    });

    it('lists a snapshot that stays valid while connections are deleted during iteration', () => {
      const registry = new ConnectionRegistry();
      for (let i = 0; i < 5; i++) open(registry);
      const visited: number[] = [];
      for (const conn of registry.list()) {
        visited.push(conn.id);
        registry.delete(conn.id);
      }
      expect(visited).toEqual([1, 2, 3, 4, 5]);
      expect(registry.size).toBe(0);
      expect(registry.list()).toEqual([]);
    });
  });
});

describe('ConnectionRegistry reservations', () => {
  it('never allocates a reserved handle until it is released or added', () => {
    const reg = new ConnectionRegistry();
    const r = reg.reserveId();
    expect(r).toBe(1);
    expect(reg.allocateId()).toBe(2);
    reg.add(fakeConnection(r));
    expect(reg.get(r)?.id).toBe(1);
    const r2 = reg.reserveId();
    reg.releaseId(r2);
    expect(r2).toBe(3);
  });
});
