/**
 * Lifecycle of one connection, with every allowed transition in one table.
 *
 * connecting → open → closing → closed; connecting or open may also go straight to closed (the
 * peer vanished) and connecting to closing (the plugin refused it).
 */
export type ConnectionState = 'connecting' | 'open' | 'closing' | 'closed';

const ALLOWED: Record<ConnectionState, readonly ConnectionState[]> = {
  connecting: ['open', 'closing', 'closed'],
  open: ['closing', 'closed'],
  closing: ['closed'],
  closed: [],
};

/**
 * Returns `to` when the transition is allowed.
 * @throws {Error} on a transition the table forbids: a broker bug, never a peer's doing.
 */
export function transition(from: ConnectionState, to: ConnectionState): ConnectionState {
  if (!ALLOWED[from].includes(to)) throw new Error(`illegal connection state transition ${from} → ${to}`);
  return to;
}

/** True while the plugin may still send to the connection. */
export function isLive(state: ConnectionState): boolean {
  return state === 'connecting' || state === 'open';
}
