/**
 * `Balancer`: picks a node of one upstream service for each new upstream channel, and ejects nodes
 * that refuse or drop connections. Pure bookkeeping (no sockets, no timers): callers report what
 * happened and pass the time.
 *
 * - `round-robin`: the next node that is not ejected.
 * - `least-connections`: the node with the fewest open channels (ties: round-robin order).
 * - `consistent-hash`: a ring of `UPSTREAM_HASH_POINTS_PER_NODE` points per node (FNV-1a); a key
 *   goes to the first point at or after its hash, skipping ejected nodes, so one key keeps its
 *   node while that node is up and only the keys of a failed node move. An empty key falls back
 *   to round-robin.
 *
 * Ejection (after Envoy's outlier detection): each consecutive failure of a node ejects it for
 * `base · 2^(failures-1)` ms, capped at `max`, with full jitter in [½, 1] of that so that many
 * brokers do not come back at once; after the ejection the node is tried again by the next pick
 * (half-open), and a successful connection resets its failure count.
 */
import { UPSTREAM_EJECT_BASE_MS, UPSTREAM_EJECT_MAX_MS, UPSTREAM_HASH_POINTS_PER_NODE } from '../limits.js';

/** Node choice policy of a service. */
export type BalancePolicy = 'round-robin' | 'least-connections' | 'consistent-hash';
export const BALANCE_POLICIES: readonly BalancePolicy[] = ['round-robin', 'least-connections', 'consistent-hash'];

/** One physical node of a service. */
export interface UpstreamNode {
  readonly host: string;
  readonly port: number;
}

/** Tuning of `Balancer`; every field has a default from limits.ts. */
export interface BalancerOptions {
  ejectBaseMs?: number;
  ejectMaxMs?: number;
  hashPointsPerNode?: number;
  /** Random number in [0, 1) for the jitter (tests pass a fixed one). */
  random?: () => number;
}

interface NodeState {
  readonly node: UpstreamNode;
  active: number;
  failures: number;
  ejectedUntilMs: number;
}

export class Balancer {
  readonly policy: BalancePolicy;
  readonly #nodes: NodeState[];
  readonly #ejectBaseMs: number;
  readonly #ejectMaxMs: number;
  readonly #random: () => number;
  /** Sorted ring of [hash, node index] (consistent-hash only). */
  readonly #ringHashes: Uint32Array;
  readonly #ringNodes: Uint16Array;
  #next = 0;

  constructor(nodes: readonly UpstreamNode[], policy: BalancePolicy, opts: BalancerOptions = {}) {
    if (nodes.length === 0) throw new Error('a service needs at least one node'); // config validates first
    this.policy = policy;
    this.#nodes = nodes.map((node) => ({ node, active: 0, failures: 0, ejectedUntilMs: 0 }));
    this.#ejectBaseMs = opts.ejectBaseMs ?? UPSTREAM_EJECT_BASE_MS;
    this.#ejectMaxMs = opts.ejectMaxMs ?? UPSTREAM_EJECT_MAX_MS;
    this.#random = opts.random ?? Math.random;
    const points = policy === 'consistent-hash' ? (opts.hashPointsPerNode ?? UPSTREAM_HASH_POINTS_PER_NODE) : 0;
    const ring: Array<[number, number]> = [];
    nodes.forEach((n, i) => {
      for (let p = 0; p < points; p++) ring.push([fnv1a(`${n.host}:${n.port}#${p}`), i]);
    });
    ring.sort((a, b) => a[0] - b[0]);
    this.#ringHashes = Uint32Array.from(ring, (r) => r[0]);
    this.#ringNodes = Uint16Array.from(ring, (r) => r[1]);
  }

  /** Number of nodes. */
  get size(): number {
    return this.#nodes.length;
  }

  /** The node at `index`. */
  node(index: number): UpstreamNode {
    return this.#nodes[index].node;
  }

  /** Open channels to the node at `index`. */
  active(index: number): number {
    return this.#nodes[index].active;
  }

  /** Whether the node at `index` is ejected at `nowMs`. */
  isEjected(index: number, nowMs: number): boolean {
    return this.#nodes[index].ejectedUntilMs > nowMs;
  }

  /** The index of the node for a new channel, or -1 when every node is ejected. */
  pick(key: string, nowMs: number): number {
    if (this.policy === 'consistent-hash' && key.length > 0) return this.#pickHash(key, nowMs);
    if (this.policy === 'least-connections') return this.#pickLeast(nowMs);
    return this.#pickRoundRobin(nowMs);
  }

  /** A channel to the node at `index` was opened (counts for least-connections). */
  opened(index: number): void {
    this.#nodes[index].active++;
  }

  /** A channel to the node at `index` ended. */
  closed(index: number): void {
    this.#nodes[index].active--;
  }

  /** Connecting to the node at `index` succeeded: its failure count starts over. */
  connected(index: number): void {
    this.#nodes[index].failures = 0;
  }

  /**
   * The node at `index` refused or dropped a connection: eject it. A failure reported while it is
   * ejected already (other channels of the same outage) does not lengthen the ejection.
   * @returns how long it is ejected for, in ms (0 when it already was).
   */
  failed(index: number, nowMs: number): number {
    const n = this.#nodes[index];
    if (n.ejectedUntilMs > nowMs) return 0;
    n.failures++;
    const ceiling = Math.min(this.#ejectMaxMs, this.#ejectBaseMs * 2 ** Math.min(n.failures - 1, 30));
    const ms = Math.max(1, Math.round(ceiling * (0.5 + 0.5 * this.#random())));
    n.ejectedUntilMs = nowMs + ms;
    return ms;
  }

  #pickRoundRobin(nowMs: number): number {
    const count = this.#nodes.length;
    for (let k = 0; k < count; k++) {
      const i = (this.#next + k) % count;
      if (this.#nodes[i].ejectedUntilMs <= nowMs) {
        this.#next = (i + 1) % count;
        return i;
      }
    }
    return -1;
  }

  #pickLeast(nowMs: number): number {
    const count = this.#nodes.length;
    let best = -1;
    for (let k = 0; k < count; k++) {
      const i = (this.#next + k) % count;
      const n = this.#nodes[i];
      if (n.ejectedUntilMs > nowMs) continue;
      if (best === -1 || n.active < this.#nodes[best].active) best = i;
    }
    if (best !== -1) this.#next = (best + 1) % count;
    return best;
  }

  #pickHash(key: string, nowMs: number): number {
    const hashes = this.#ringHashes;
    const h = fnv1a(key);
    // First point at or after h (binary search), then walk the ring past ejected nodes.
    let lo = 0;
    let hi = hashes.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (hashes[mid] < h) lo = mid + 1;
      else hi = mid;
    }
    for (let k = 0; k < hashes.length; k++) {
      const i = this.#ringNodes[(lo + k) % hashes.length];
      if (this.#nodes[i].ejectedUntilMs <= nowMs) return i;
    }
    return -1;
  }
}

/** 32-bit FNV-1a over the UTF-16 code units of `text`, with a final avalanche (murmur3 fmix). */
export function fnv1a(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}
