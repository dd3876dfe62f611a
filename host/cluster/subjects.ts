/**
 * The NATS subjects a cluster uses, all under `pb.<cluster-name>.` so that two clusters can share
 * one NATS (docs/cluster.md lists them). Pure: names in, subject strings out.
 *
 * Group names are any 1 to 256 bytes of UTF-8, but a subject token may not hold `.`, `*`, `>` or
 * white space: a group's token is its name in base64url (A–Z a–z 0–9 - _), reversible and
 * collision-free. Node ids and cluster names are checked to be tokens already.
 */
import { CLUSTER_SUBJECT_CACHE_ENTRIES, MAX_CLUSTER_TOKEN_CHARS } from '../limits.js';

/** Version of the broker-to-broker messages; part of their subjects, so another version never sees them. */
export const CLUSTER_PROTOCOL_VERSION = 1;

const TOKEN = new RegExp(`^[A-Za-z0-9_-]{1,${MAX_CLUSTER_TOKEN_CHARS}}$`);

/** Whether `text` is usable as a node id, cluster name or NATS service name: 1 to 64 of `[A-Za-z0-9_-]`. */
export function isClusterToken(text: unknown): text is string {
  return typeof text === 'string' && TOKEN.test(text);
}

/** A group name as one subject token (base64url of its UTF-8). */
export function groupToken(group: string): string {
  return Buffer.from(group, 'utf8').toString('base64url');
}

/** The subjects of one cluster, seen from one node. */
export class Subjects {
  /** `pb.<cluster-name>`. */
  readonly prefix: string;
  /** Broker-to-broker subjects: `pb.<cluster-name>.v1`. */
  readonly #v: string;
  /** Every node's presence beats. */
  readonly presence: string;
  /** Every node's membership deltas. */
  readonly members: string;
  /** A node leaving (graceful stop, or a replacement process for its predecessor). */
  readonly bye: string;
  readonly #groupCache = new Map<string, string>();

  constructor(clusterName: string) {
    this.prefix = `pb.${clusterName}`;
    this.#v = `${this.prefix}.v${CLUSTER_PROTOCOL_VERSION}`;
    this.presence = `${this.#v}.presence`;
    this.members = `${this.#v}.members`;
    this.bye = `${this.#v}.bye`;
  }

  /** The subject of `group`'s cross-node sends. Cached: it is computed on every cross-node send. */
  group(group: string): string {
    let subject = this.#groupCache.get(group);
    if (subject === undefined) {
      if (this.#groupCache.size >= CLUSTER_SUBJECT_CACHE_ENTRIES) this.#groupCache.clear();
      subject = `${this.#v}.g.${groupToken(group)}`;
      this.#groupCache.set(group, subject);
    }
    return subject;
  }

  /** Where a node is asked for a snapshot of its memberships. */
  sync(node: string): string {
    return `${this.#v}.node.${node}.sync`;
  }

  /** Where a node receives the snapshots it asked for. */
  snapshot(node: string): string {
    return `${this.#v}.node.${node}.snapshot`;
  }

  /** Where a NATS service's members take channel opens (queue group = the service name). */
  service(service: string): string {
    return `${this.prefix}.svc.${service}`;
  }

  /** Every upstream channel of `node` to a NATS service (one wildcard subscription per node). */
  channels(node: string): string {
    return `${this.prefix}.ch.${node}.*`;
  }

  /** Where the service member sends the frames of one channel of `node`. */
  channel(node: string, token: string): string {
    return `${this.prefix}.ch.${node}.${token}`;
  }
}
