/**
 * Helpers for cluster tests (#12): brokers joined through a real NATS server, the `router`
 * fixture's binary commands, and a condition wait with a deadline (cross-node state has no local
 * event to wait on, so it is polled every 10 ms until the deadline).
 */
import type { BrokerOptions } from '../../host/config.js';
import { startBroker, type TestBroker } from './broker.js';

/** Resolves once `cond()` holds; rejects after `deadlineMs` with `what()` in the message. */
export async function waitUntil(cond: () => boolean | Promise<boolean>, deadlineMs: number, what: () => string): Promise<void> {
  const deadline = Date.now() + deadlineMs;
  while (!(await cond())) {
    if (Date.now() >= deadline) throw new Error(`timed out after ${deadlineMs} ms waiting for ${what()}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** Starts an in-process broker that is node `nodeId` of the cluster on `natsUrl`. */
export function startNode(natsUrl: string, nodeId: string, opts: Omit<BrokerOptions, 'logger'>): Promise<TestBroker> {
  return startBroker({ cluster: natsUrl, nodeId, clusterPresenceIntervalMs: 200, ...opts });
}

// The `router` fixture (test/fixtures/plugins/router.wat): one byte of command, a length-prefixed name.
const name = (g: string): Buffer => Buffer.concat([Buffer.of(Buffer.byteLength(g)), Buffer.from(g)]);
const u32 = (v: number): Buffer => {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(v);
  return b;
};
/** `group-join(g, self)`; the reply is one byte (1: joined). */
export const joinCmd = (g: string): Buffer => Buffer.concat([Buffer.from('j'), name(g)]);
/** `group-leave(g, self)`; one byte. */
export const leaveCmd = (g: string): Buffer => Buffer.concat([Buffer.from('l'), name(g)]);
/** `group-size(g)`; u32 LE. */
export const sizeCmd = (g: string): Buffer => Buffer.concat([Buffer.from('n'), name(g)]);
/** `group-send(g, msg, except)`; with a reply (u32 LE deliveries) or without. */
export const sendCmd = (g: string, msg: string, except = 0, reply = true): Buffer =>
  Buffer.concat([Buffer.from(reply ? 'b' : 'q'), name(g), u32(except), Buffer.from(msg)]);
