/**
 * The `transport` label of `plugbroker_connections` and of the admin API's channels: how a client
 * reached the broker. A `tls://` peer is `tcp` + secure and a `wss://` peer is `websocket` + secure
 * (WIT 0.2.0 `peer-info`), so the label is derived from both.
 */
import type { TransportKind } from '../plugin/world.js';

/** Every value of the label, in the order metrics and the dashboard list them. */
export const TRANSPORT_LABELS = ['tcp', 'tls', 'ws', 'wss'] as const;
export type TransportLabel = (typeof TRANSPORT_LABELS)[number];

/** The label for a peer: its transport kind and whether it is encrypted (absent: not). */
export function transportLabel(peer: { readonly transport: TransportKind; readonly secure?: boolean }): TransportLabel {
  if (peer.transport === 'websocket') return peer.secure === true ? 'wss' : 'ws';
  return peer.secure === true ? 'tls' : 'tcp';
}
