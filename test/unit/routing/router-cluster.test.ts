import { describe, expect, it } from 'vitest';
import type { Connection } from '../../../host/connection/connection.js';
import { ConnectionRegistry } from '../../../host/connection/registry.js';
import { Router, type ClusterLink } from '../../../host/routing/router.js';

/** A live connection that records what it is sent (the fan-out hands it encoded frames). */
function fakeConn(id: number, got: string[]): Connection {
  return {
    id,
    state: 'open',
    sendEncoded(frames: Buffer) {
      got.push(frames.toString());
      return true;
    },
  } as unknown as Connection;
}

class FakeLink implements ClusterLink {
  sizes: Array<[string, number]> = [];
  published: Array<[string, string]> = [];
  remote = new Map<string, number>();
  localSizeChanged(group: string, size: number): void {
    this.sizes.push([group, size]);
  }
  publish(group: string, src: Uint8Array, start: number, end: number): number {
    this.published.push([group, Buffer.from(src.subarray(start, end)).toString()]);
    return this.remote.get(group) ?? 0;
  }
  remoteSize(group: string): number {
    return this.remote.get(group) ?? 0;
  }
}

describe('Router with a cluster (#12)', () => {
  const setup = (): { router: Router; link: FakeLink; got: Map<number, string[]> } => {
    const registry = new ConnectionRegistry();
    const got = new Map<number, string[]>();
    for (const id of [1, 2, 3]) {
      got.set(id, []);
      registry.add(fakeConn(id, got.get(id)!));
    }
    return { router: new Router(registry), link: new FakeLink(), got };
  };

  it('announces the groups it already has when attached, then every local size change', () => {
    const { router, link } = setup();
    router.groupJoin('early', 1);
    router.attachCluster(link);
    expect(link.sizes).toEqual([['early', 1]]);
    router.groupJoin('room', 1);
    router.groupJoin('room', 2);
    router.groupJoin('room', 2); // already a member: no change
    router.groupLeave('room', 1);
    router.groupLeave('room', 1); // not a member: no change
    router.channelEnded(2); // leaves every group it was in
    expect(link.sizes.slice(1)).toEqual([
      ['room', 1],
      ['room', 2],
      ['room', 1],
      ['room', 0],
    ]);
  });

  it('publishes each group send once and adds the other nodes to the count and the size', () => {
    const { router, link } = setup();
    router.attachCluster(link);
    router.groupJoin('room', 1);
    router.groupJoin('room', 2);
    link.remote.set('room', 40);
    expect(router.groupSend('room', Buffer.from('xhix'), 1, 3, 1)).toBe(1 + 40);
    expect(link.published).toEqual([['room', 'hi']]);
    expect(router.groupSize('room')).toBe(42);
    expect(router.localGroupSize('room')).toBe(2);
    // A group with no local member is still published (its members may all be elsewhere).
    link.remote.set('far', 5);
    expect(router.groupSend('far', Buffer.from('yo'), 0, 2, 0)).toBe(5);
    expect(link.published[1]).toEqual(['far', 'yo']);
  });

  it('delivers a send from another node to every local member, with nobody left out', async () => {
    const { router, got } = setup();
    router.groupJoin('room', 1);
    router.groupJoin('room', 3);
    expect(router.deliverRemote('room', Buffer.from('hello'))).toBe(2);
    expect(router.deliverRemote('nobody-here', Buffer.from('x'))).toBe(0);
    await new Promise((r) => setImmediate(r)); // the staged run is flushed at the end of the tick
    expect(got.get(1)).toEqual(['5\nhello']);
    expect(got.get(2)).toEqual([]);
    expect(got.get(3)).toEqual(['5\nhello']);
  });
});
