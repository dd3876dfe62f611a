/**
 * Who may connect: a global cap, a cap per IP address, and an accept rate per IP (token bucket),
 * after Centrifugo's and NATS's connection limits. Refusals are counted by reason; the broker logs
 * them as one summary line per sweep instead of one line per socket (a reconnect storm would
 * otherwise flood the log).
 */

/** Admission policy; 0 disables an item. */
export interface AdmissionPolicy {
  readonly maxConnections: number;
  readonly maxConnectionsPerIp: number;
  /** New connections per second and IP; bursts up to the same number. */
  readonly acceptRatePerIp: number;
}

import type { HandshakeRefusal } from '../transport/accept-gate.js';

/** Why a connection never reached the plugin: a cap, the broker's state, or a failed handshake. */
export type RefusalReason = 'max-connections' | 'max-connections-per-ip' | 'accept-rate-per-ip' | 'shutting-down' | 'plugin-failed' | HandshakeRefusal;

interface IpEntry {
  live: number;
  tokens: number;
  lastMs: number;
}

export class Admission {
  #policy: AdmissionPolicy;
  readonly #byIp = new Map<string, IpEntry>();
  #live = 0;
  #refused: Partial<Record<RefusalReason, number>> = {};
  #refusedTotal: Partial<Record<RefusalReason, number>> = {};

  constructor(policy: AdmissionPolicy) {
    this.#policy = policy;
  }

  /**
   * Replaces the caps (a config reload): they apply to the next admission. Connections already
   * admitted stay; an accept-rate bucket keeps its tokens, capped by the new rate.
   */
  setPolicy(policy: AdmissionPolicy): void {
    this.#policy = policy;
    for (const e of this.#byIp.values()) e.tokens = Math.min(e.tokens, policy.acceptRatePerIp);
  }

  /** Connections admitted and not yet released. */
  get live(): number {
    return this.#live;
  }

  /**
   * Decides on a new connection from `ip`. On admission the caller must `release(ip)` exactly once
   * when the connection ends.
   * @returns null when admitted, else the reason for refusing.
   */
  admit(ip: string, nowMs: number): RefusalReason | null {
    const p = this.#policy;
    if (p.maxConnections > 0 && this.#live >= p.maxConnections) return this.#refuse('max-connections');
    let entry = this.#byIp.get(ip);
    if (entry === undefined) {
      entry = { live: 0, tokens: p.acceptRatePerIp, lastMs: nowMs };
      this.#byIp.set(ip, entry);
    }
    if (p.maxConnectionsPerIp > 0 && entry.live >= p.maxConnectionsPerIp) return this.#refuse('max-connections-per-ip');
    if (p.acceptRatePerIp > 0) {
      entry.tokens = Math.min(p.acceptRatePerIp, entry.tokens + ((nowMs - entry.lastMs) * p.acceptRatePerIp) / 1000);
      entry.lastMs = nowMs;
      if (entry.tokens < 1) return this.#refuse('accept-rate-per-ip');
      entry.tokens -= 1;
    }
    entry.live++;
    this.#live++;
    return null;
  }

  /** Counts a refusal decided elsewhere (shutting down, plugin failed). */
  refuse(reason: RefusalReason): void {
    this.#refuse(reason);
  }

  /** A connection admitted from `ip` ended. */
  release(ip: string): void {
    const entry = this.#byIp.get(ip);
    if (entry === undefined) return;
    entry.live--;
    this.#live--;
  }

  /**
   * Refusals since the last call (for the summary log line), and forgets idle IPs whose bucket is
   * full again, so the map does not grow with every address ever seen.
   */
  drainRefusals(nowMs: number): Partial<Record<RefusalReason, number>> {
    const p = this.#policy;
    for (const [ip, e] of this.#byIp) {
      if (e.live === 0 && (p.acceptRatePerIp === 0 || e.tokens + ((nowMs - e.lastMs) * p.acceptRatePerIp) / 1000 >= p.acceptRatePerIp)) this.#byIp.delete(ip);
    }
    const out = this.#refused;
    this.#refused = {};
    return out;
  }

  /** Refusals since start, by reason. */
  get refusedTotal(): Readonly<Partial<Record<RefusalReason, number>>> {
    return this.#refusedTotal;
  }

  #refuse(reason: RefusalReason): RefusalReason {
    this.#refused[reason] = (this.#refused[reason] ?? 0) + 1;
    this.#refusedTotal[reason] = (this.#refusedTotal[reason] ?? 0) + 1;
    return reason;
  }
}
