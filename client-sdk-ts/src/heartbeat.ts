/**
 * Client-side heartbeats, depending only on a two-method target (the nats.js `PH` pattern), so it is
 * tested with fake timers and no socket. After `pingIntervalMs` without inbound data the client
 * sends a heartbeat (the broker answers it); after `idleTimeoutMs` without inbound data it gives
 * the connection up. Inbound data is a field write (`seen()`); one timer per connection is re-armed
 * for the next deadline.
 */

/** What the heartbeat needs from a connection. */
export interface HeartbeatTarget {
  /** Send a heartbeat (an empty frame or WebSocket message). */
  sendHeartbeat(): void;
  /** Nothing arrived for `idleTimeoutMs`: the connection is dead. */
  onIdleTimeout(): void;
}

/** Timing; 0 disables an item. */
export interface HeartbeatPolicy {
  readonly pingIntervalMs: number;
  readonly idleTimeoutMs: number;
}

/** One connection's heartbeat. */
export class Heartbeat {
  readonly #target: HeartbeatTarget;
  readonly #policy: HeartbeatPolicy;
  #lastSeenMs = 0;
  #lastPingMs = 0;
  #timer: ReturnType<typeof setTimeout> | undefined;

  constructor(target: HeartbeatTarget, policy: HeartbeatPolicy) {
    this.#target = target;
    this.#policy = policy;
  }

  /** Starts watching (the connection just opened). */
  start(): void {
    this.#lastSeenMs = this.#lastPingMs = Date.now();
    this.#arm();
  }

  /** Something arrived from the broker: a frame, a heartbeat or a WebSocket ping. */
  seen(): void {
    this.#lastSeenMs = Date.now();
  }

  /** Stops watching. */
  stop(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #check = (): void => {
    this.#timer = undefined;
    const { pingIntervalMs, idleTimeoutMs } = this.#policy;
    const now = Date.now();
    const silentMs = now - this.#lastSeenMs;
    if (idleTimeoutMs > 0 && silentMs >= idleTimeoutMs) {
      this.#target.onIdleTimeout();
      return;
    }
    if (pingIntervalMs > 0 && silentMs >= pingIntervalMs && now - this.#lastPingMs >= pingIntervalMs) {
      this.#lastPingMs = now;
      this.#target.sendHeartbeat();
    }
    this.#arm();
  };

  #arm(): void {
    const { pingIntervalMs, idleTimeoutMs } = this.#policy;
    let due = Infinity;
    if (idleTimeoutMs > 0) due = this.#lastSeenMs + idleTimeoutMs;
    if (pingIntervalMs > 0) due = Math.min(due, Math.max(this.#lastSeenMs, this.#lastPingMs) + pingIntervalMs);
    if (due === Infinity) return;
    this.#timer = setTimeout(this.#check, Math.max(1, due - Date.now()));
    // In Node the socket keeps the process alive; the heartbeat alone must not.
    (this.#timer as { unref?: () => void }).unref?.();
  }
}
