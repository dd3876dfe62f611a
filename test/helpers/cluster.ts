/**
 * Helpers for cluster tests (#12): brokers joined through a real NATS server, the `router`
 * fixture's binary commands, and `waitUntil`, the shared `waitFor` in the cluster tests' argument order.
 */
import type { BrokerOptions } from '../../host/config.js';
import { startBroker, type TestBroker } from './broker.js';
import { waitFor } from './wait.js';

/**
 * `waitFor` (./wait.ts) in the argument order the cluster tests use: resolves once `cond()` holds
 * (polled, since cross-node state has no local event); rejects after `deadlineMs` naming `what()`.
 */
export function waitUntil(cond: () => boolean | Promise<boolean>, deadlineMs: number, what: () => string): Promise<void> {
  return waitFor(cond, what, { deadlineMs, intervalMs: 10 });
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
