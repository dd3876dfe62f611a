/**
 * What a fresh worker instance is told after a failure (worker isolation): first
 * `handle-connect(resumed = true)` for the open channels the dead instance knew, then the calls it
 * did not run, in their order, for the channels the fresh instance knows by then. A connect that
 * had not run is replayed when its channel is still open or its `handle-broken` follows, so the
 * instance sees either both or neither (under the `close` policy those channels were closed without
 * `handle-broken`: it sees neither). Pure: the runtime hands in what it knows and posts what comes
 * out.
 */
import { CALL_ADOPT, CALL_BROKEN, CALL_CONNECT, CALL_RESTORE, CALL_SNAPSHOT, CALL_STOP, RecordWriter, encodePeer, forEachRecord } from './worker-protocol.js';
import type { PeerInfo } from '../world.js';

/** A decoded call, its body copied out of the batch. */
export interface Call {
  kind: number;
  channel: number;
  body: Buffer;
}

/** Calls not about a channel: kept whatever the channels. */
const CONTROL_CALLS = new Set([CALL_STOP, CALL_SNAPSHOT, CALL_RESTORE]);

/** Decodes a batch into calls (failure path only: copies every body). */
export function decodeCalls(bytes: Uint8Array): Call[] {
  const calls: Call[] = [];
  forEachRecord(bytes, (r) => void calls.push({ kind: r.kind, channel: r.channel, body: Buffer.from(r.body) }));
  return calls;
}

/**
 * Builds the queue for a fresh instance.
 * @param pending calls the dead instance did not run (or whose effects died with it), in order.
 * @param known channels whose connect reached the dead instance's queue and whose broken did not;
 *   entries no longer `live` are removed from it.
 * @param live the broker's open channels.
 * @param resume false under the `close` policy: no resumed connects (those channels were closed).
 */
export function planReplay(pending: readonly Call[], known: Map<number, PeerInfo>, live: ReadonlyMap<number, PeerInfo>, resume: boolean): RecordWriter {
  const connectsAgain = new Set(pending.filter((c) => c.kind === CALL_CONNECT).map((c) => c.channel));
  const brokenLater = new Set(pending.filter((c) => c.kind === CALL_BROKEN).map((c) => c.channel));
  const introduced = new Set<number>();
  const queue = new RecordWriter();
  for (const [ch, peer] of [...known]) {
    if (!live.has(ch)) known.delete(ch);
    else if (resume && !connectsAgain.has(ch)) {
      introduced.add(ch);
      queue.push(CALL_CONNECT, ch, encodePeer(peer, true));
    }
  }
  for (const c of pending) {
    if (c.kind === CALL_CONNECT) {
      if (!live.has(c.channel) && !brokenLater.has(c.channel)) continue;
      introduced.add(c.channel);
    } else if (c.kind === CALL_ADOPT) introduced.add(c.channel);
    else if (!CONTROL_CALLS.has(c.kind) && !introduced.has(c.channel)) continue;
    queue.push(c.kind, c.channel, c.body);
    if (c.kind === CALL_BROKEN) introduced.delete(c.channel);
  }
  return queue;
}
