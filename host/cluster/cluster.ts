/**
 * `Cluster`: one broker's membership in a cluster of brokers over NATS (issue #12, docs/cluster.md).
 * Attached to the router as its `ClusterLink`:
 *
 * - **Groups span the nodes.** A node subscribes to a group's subject only while the group has
 *   local members (NATS routes by interest, as Centrifugo's NATS broker does); a group send is one
 *   publish on that subject whatever the member count, skipped when no other node has members;
 *   each receiving node fans the frame out to its local members with the router's batching (the
 *   frame is encoded once per node). NATS keeps one publisher's messages in order, so members get
 *   one node's sends in the order they were made. At most once: a message NATS drops (a slow
 *   consumer, a reconnect) is not sent again.
 * - **Who has members where.** Each node announces its groups' local member counts (absolute
 *   counts, numbered deltas, once per event-loop turn) and a presence beat every
 *   `presenceIntervalMs`; `RemoteMembership` sums them for `group-size` and for the decision to
 *   publish at all. A lost delta (a gap in the numbers) is healed by a snapshot on request; a node
 *   silent for three intervals, or one that says bye, loses its memberships.
 * - **NATS is optional at run time.** Connecting never blocks serving; while NATS is unreachable
 *   local clients and local groups work as before, cross-node sends are dropped and counted (one
 *   log line per interval with the count), and nothing is queued for later. When NATS is back the
 *   node resubscribes, announces itself and its memberships again, and asks the others for theirs.
 * - **Bad messages are dropped and counted** (`ClusterMessageError`, one log line per interval).
 */
import { randomInt } from 'node:crypto';
import type { Msg } from '@nats-io/transport-node';
import type { Logger } from 'pino';
import { ClusterMessageError, ClusterSendDroppedError, ClusterUnreachableError } from '../errors.js';
import { CLUSTER_CONTROL_MESSAGE_BYTES, CLUSTER_LOSS_GRACE_BEATS, CLUSTER_SYNC_MIN_INTERVAL_MS } from '../limits.js';
import type { ClusterMetricsSource } from '../metrics/cluster-metrics.js';
import type { ClusterLink, Router } from '../routing/router.js';
import { decodeControl, encodeControl, groupCountBytes, type ControlMessage, type GroupCount } from './control-messages.js';
import { NatsBus, type BusState } from './nats-bus.js';
import { RemoteMembership, chunkGroupCounts, type RemoteNodeInfo } from './remote-membership.js';
import { Subjects } from './subjects.js';
import { OP_HEADER, ServiceChannelTransport, type ServiceChannelHost } from './service-channel.js';
import type { ConnectEvents } from '../transport/tcp-connect.js';
import type { Transport } from '../transport/transport.js';
import { headers as natsHeaders } from '@nats-io/transport-node';

/** What a cluster node is configured with (resolved options). */
export interface ClusterConfig {
  /** `nats://host:port` URLs (credentials, if any, stay in them; they are never logged). */
  readonly servers: readonly string[];
  readonly nodeId: string;
  readonly clusterName: string;
  readonly presenceIntervalMs: number;
  /** Largest frame body: a group message above it is malformed. */
  readonly maxFrameBytes: number;
  /** A node this one replaces (`--processes` restarting a process): it says bye for it once connected. */
  readonly replaces?: string;
}

/** Counters of a cluster node since start (plain numbers; metrics read them). */
export interface ClusterStats {
  /** Group sends published to NATS (one per group send that other nodes had members for). */
  groupSendsPublished: number;
  /** Group sends not published because no other node had members (as announced). */
  groupSendsLocalOnly: number;
  /** Cross-node sends dropped: NATS unreachable, too much unacknowledged, or larger than NATS takes. */
  sendsDropped: number;
  /** Group messages received from other nodes. */
  remoteMessages: number;
  /** Deliveries to local members of those messages. */
  remoteDeliveries: number;
  /** Messages on the cluster's subjects that were dropped as malformed. */
  malformedDropped: number;
  /** Nodes dropped for silence (presence timeout). */
  nodesLost: number;
  /** Times the NATS connection came back after being lost. */
  reconnects: number;
}

/** A cluster node's state, for the `listening` line and status. */
export interface ClusterStatus {
  readonly name: string;
  readonly node: string;
  readonly state: BusState;
  /** Other nodes known (heard within their presence timeout). */
  readonly nodes: number;
}

/**
 * Remote group sizes for a plugin worker's mirror (worker isolation answers `group-size` there):
 * `all()` once, then `take()` what changed since, with each batch.
 */
export interface RemoteSizeFeed {
  /** Every group with remote members and its remote total. */
  all(): GroupCount[];
  /** Groups whose remote total changed since the last `take` (or `all`), with the new totals; undefined when none. */
  take(): GroupCount[] | undefined;
  /** Stops tracking (the runtime is gone). */
  close(): void;
}

/** Changed groups a feed remembers before it falls back to sending everything again. */
const FEED_MAX_DIRTY = 10_000;

interface Feed {
  dirty: Set<string>;
  overflow: boolean;
}

export class Cluster implements ClusterLink, ClusterMetricsSource {
  readonly config: ClusterConfig;
  readonly subjects: Subjects;
  /** This incarnation of the node. */
  readonly epoch = randomInt(0, 0xffff_ffff);
  readonly #router: Router;
  readonly #log: Logger;
  readonly #bus: NatsBus;
  readonly #membership: RemoteMembership;
  readonly #now: () => number;
  readonly #stats: ClusterStats = {
    groupSendsPublished: 0,
    groupSendsLocalOnly: 0,
    sendsDropped: 0,
    remoteMessages: 0,
    remoteDeliveries: 0,
    malformedDropped: 0,
    nodesLost: 0,
    reconnects: 0,
  };
  /** Groups whose local count changed and is not announced yet. */
  readonly #dirty = new Set<string>();
  #announceScheduled = false;
  /** Sequence number of the last membership delta published. */
  #seq = 0;
  #timer: NodeJS.Timeout | undefined;
  readonly #feeds = new Set<Feed>();
  /** When each node was last sent a snapshot. */
  readonly #snapshotSentMs = new Map<string, number>();
  /** Drops and malformed messages since the last log line, logged once per interval. */
  #droppedUnlogged = 0;
  #dropReason = '';
  #malformedUnlogged = 0;
  #malformedExample: ClusterMessageError | undefined;
  #stopped = false;
  #ticks = 0;
  /** When a node was last lost (presence timeout); sends are published regardless for a grace after it. */
  #lastLossMs = Number.NEGATIVE_INFINITY;
  /** Open channels to NATS services, by the token of their subject. */
  readonly #serviceChannels = new Map<string, ServiceChannelTransport>();
  #nextChannel = 0;
  readonly #channelHost: ServiceChannelHost;

  constructor(config: ClusterConfig, router: Router, log: Logger, now: () => number = Date.now) {
    this.config = config;
    this.subjects = new Subjects(config.clusterName);
    this.#router = router;
    this.#log = log.child({ cluster: config.clusterName, node: config.nodeId });
    this.#now = now;
    this.#membership = new RemoteMembership(config.nodeId, config.presenceIntervalMs, (group, total) => this.#remoteTotalChanged(group, total));
    this.#bus = new NatsBus({
      servers: config.servers,
      name: config.nodeId,
      log: this.#log,
      events: {
        onConnected: (first) => this.#onConnected(first),
        onDisconnected: () => {
          this.#log.warn(
            { code: 'PB_ERR_CLUSTER_UNREACHABLE', serviceChannels: this.#serviceChannels.size },
            'cluster connection lost: serving local clients, reconnecting',
          );
          // Their frames would be lost: end them like a dropped connection (the plugin opens new ones).
          for (const ch of [...this.#serviceChannels.values()]) ch.lost();
        },
        onUnreachable: (err) => {
          const e = new ClusterUnreachableError(redact(config.servers), { cause: err });
          this.#log.warn({ code: e.code, err: (err as Error)?.message }, e.message);
        },
        onCallbackError: (subject, err) => this.#log.error({ err, subject }, 'cluster message handler failed'),
      },
    });
    this.#channelHost = {
      bus: this.#bus,
      maxFrameBytes: config.maxFrameBytes,
      forget: (token) => void this.#serviceChannels.delete(token),
      malformed: (err) => this.#malformed(err),
    };
  }

  /** Starts connecting (in the background: serving never waits for NATS) and the presence timer. */
  start(): void {
    const s = this.subjects;
    const bus = this.#bus;
    bus.subscribe(s.channels(this.config.nodeId), (m) => this.#onChannelMessage(m));
    bus.subscribe(s.presence, (m) => this.#control(m, 'presence'));
    bus.subscribe(s.members, (m) => this.#control(m, 'members'));
    bus.subscribe(s.bye, (m) => this.#control(m, 'bye'));
    bus.subscribe(s.sync(this.config.nodeId), (m) => this.#control(m, 'sync'));
    bus.subscribe(s.snapshot(this.config.nodeId), (m) => this.#control(m, 'snapshot'));
    bus.start();
    // Twice per interval: beats on every other tick, the expiry check on each, so a silent node is
    // dropped within 3.5 intervals (14 s with the longest interval).
    this.#timer = setInterval(() => this.#tick(), Math.ceil(this.config.presenceIntervalMs / 2));
    this.#timer.unref();
  }

  /** Says bye (the other nodes drop this node's memberships at once) and closes the connection. */
  async stop(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    clearInterval(this.#timer);
    for (const ch of [...this.#serviceChannels.values()]) ch.destroy();
    this.#publishControl(this.subjects.bye, { t: 'bye', node: this.config.nodeId, epoch: this.epoch });
    await this.#bus.close();
  }

  /** The NATS connection's state. */
  get state(): BusState {
    return this.#bus.state;
  }

  /** A copy of the counters. */
  stats(): ClusterStats {
    return { ...this.#stats };
  }

  /** Name, node, connection state and the number of other nodes known. */
  status(): ClusterStatus {
    return { name: this.config.clusterName, node: this.config.nodeId, state: this.#bus.state, nodes: this.#membership.nodeCount };
  }

  /** The other nodes known, with their membership totals. */
  nodes(): RemoteNodeInfo[] {
    return this.#membership.nodes();
  }

  /** Bytes published and not yet acknowledged by the NATS server (bounded by `CLUSTER_MAX_UNACKED_BYTES`). */
  get unackedBytes(): number {
    return this.#bus.unackedBytes;
  }

  /** NATS subscriptions held: one per group with local members, plus the node's own subjects. */
  get subscriptionCount(): number {
    return this.#bus.subscriptionCount;
  }

  /** The bus, for the NATS-backed upstreams. @internal */
  get bus(): NatsBus {
    return this.#bus;
  }

  /**
   * A channel to one member of the NATS service `service` (docs/cluster-services.md), as a
   * `Transport` for an upstream `Connection`. `events.onConnected` fires when a member accepted.
   */
  openServiceChannel(service: string, key: string, timeoutMs: number, events: ConnectEvents): Transport {
    // The epoch keeps a restarted node's tokens apart from its predecessor's (same node id).
    const token = `${this.epoch.toString(36)}-${(++this.#nextChannel).toString(36)}`;
    const ch = new ServiceChannelTransport(
      this.#channelHost,
      this.subjects.service(service),
      this.subjects.channel(this.config.nodeId, token),
      token,
      service,
      key,
      timeoutMs,
      events,
    );
    this.#serviceChannels.set(token, ch);
    return ch;
  }

  /** Open channels to NATS services. */
  get serviceChannelCount(): number {
    return this.#serviceChannels.size;
  }

  #onChannelMessage(msg: Msg): void {
    const token = msg.subject.slice(msg.subject.lastIndexOf('.') + 1);
    const ch = this.#serviceChannels.get(token);
    if (ch !== undefined) {
      ch.onMessage(msg);
      return;
    }
    // A channel this node no longer has (closed, or of a previous incarnation): tell the member,
    // unless the message is a close or a status itself (never answer those: no loops).
    const h = msg.headers;
    if (msg.reply === undefined || msg.reply === '' || h?.hasError === true || h?.get(OP_HEADER) === 'close') return;
    const close = natsHeaders();
    close.set(OP_HEADER, 'close');
    this.#bus.publish(msg.reply, new Uint8Array(0), undefined, close);
  }

  // ClusterLink ----------------------------------------------------------------------------------

  localSizeChanged(group: string, size: number): void {
    const subject = this.subjects.group(group);
    if (size > 0) {
      if (!this.#bus.isSubscribed(subject)) this.#bus.subscribe(subject, (m) => this.#onGroupMessage(group, m));
    } else {
      this.#bus.unsubscribe(subject);
    }
    this.#dirty.add(group);
    this.#scheduleAnnounce();
  }

  publish(group: string, src: Uint8Array, start: number, end: number): number {
    if (!this.#bus.connected) {
      this.#dropped('NATS unreachable');
      return 0;
    }
    const remote = this.#membership.total(group);
    // A node lost lately may only have been starved of CPU, still subscribed: publish regardless
    // for a grace (CLUSTER_LOSS_GRACE_BEATS), so its members do not silently miss the send.
    if (remote === 0 && this.#now() - this.#lastLossMs > CLUSTER_LOSS_GRACE_BEATS * this.config.presenceIntervalMs) {
      this.#stats.groupSendsLocalOnly++;
      return 0;
    }
    // Copied: the client keeps a reference until it writes, and `src` is plugin memory.
    if (!this.#bus.publish(this.subjects.group(group), src.slice(start, end))) {
      this.#dropped(end - start > this.#bus.maxPayloadBytes ? 'larger than the NATS server takes' : 'too much unacknowledged by NATS');
      return 0;
    }
    this.#stats.groupSendsPublished++;
    return remote;
  }

  remoteSize(group: string): number {
    return this.#membership.total(group);
  }

  /** A feed of remote group sizes for a plugin worker. */
  openRemoteSizeFeed(): RemoteSizeFeed {
    const feed: Feed = { dirty: new Set(), overflow: false };
    this.#feeds.add(feed);
    const all = (): GroupCount[] => {
      feed.dirty.clear();
      feed.overflow = false;
      return [...this.#membership.totals()];
    };
    return {
      all,
      take: () => {
        if (feed.overflow) return all();
        if (feed.dirty.size === 0) return undefined;
        const out: GroupCount[] = [];
        for (const g of feed.dirty) out.push([g, this.#membership.total(g)]);
        feed.dirty.clear();
        return out;
      },
      close: () => void this.#feeds.delete(feed),
    };
  }

  // ----------------------------------------------------------------------------------------------

  #remoteTotalChanged(group: string, _total: number): void {
    for (const feed of this.#feeds) {
      if (feed.overflow) continue;
      feed.dirty.add(group);
      if (feed.dirty.size > FEED_MAX_DIRTY) {
        feed.dirty.clear();
        feed.overflow = true;
      }
    }
  }

  #onGroupMessage(group: string, msg: Msg): void {
    const data = msg.data;
    if (data.length > this.config.maxFrameBytes || msg.headers !== undefined) {
      this.#malformed(
        new ClusterMessageError(
          'group',
          data.length > this.config.maxFrameBytes ? `${data.length} bytes, above the frame limit` : 'headers on a group subject',
        ),
      );
      return;
    }
    this.#stats.remoteMessages++;
    this.#stats.remoteDeliveries += this.#router.deliverRemote(group, data);
  }

  #onConnected(first: boolean): void {
    if (!first) this.#stats.reconnects++;
    this.#log.info({ servers: redact(this.config.servers), first }, first ? 'cluster connected' : 'cluster reconnected');
    if (this.config.replaces !== undefined && first) this.#publishControl(this.subjects.bye, { t: 'bye', node: this.config.replaces });
    // Announce ourselves (the others sync with us if they missed anything), then what changed meanwhile.
    this.#beat();
    this.#announce();
  }

  #tick(): void {
    if (this.#bus.connected && this.#ticks++ % 2 === 0) this.#beat();
    // The expiry check waits for the I/O phase of this event-loop turn: Node runs timers before it
    // reads sockets, so after this process was itself blocked or starved of CPU, the others' beats
    // may be waiting unread in the NATS socket, and checking now would take them all for lost.
    setImmediate(() => this.#expire());
    this.#bus.flushSoon();
    this.#logDrops();
  }

  #expire(): void {
    if (this.#stopped) return;
    const now = this.#now();
    for (const node of this.#membership.expire(now)) {
      this.#stats.nodesLost++;
      this.#lastLossMs = now;
      this.#snapshotSentMs.delete(node);
      this.#log.warn({ lost: node, silentForMs: `> ${3 * this.config.presenceIntervalMs}` }, 'cluster node lost: its memberships are dropped');
    }
    if (this.#bus.connected) for (const node of this.#membership.syncsDue(now)) this.#requestSync(node);
  }

  /** One log line per interval for the sends dropped and the malformed messages since the last. */
  #logDrops(): void {
    if (this.#droppedUnlogged > 0) {
      const e = new ClusterSendDroppedError(this.#droppedUnlogged, this.#dropReason);
      this.#log.warn({ code: e.code, dropped: e.dropped, total: this.#stats.sendsDropped }, e.message);
      this.#droppedUnlogged = 0;
    }
    if (this.#malformedUnlogged > 0) {
      const e = this.#malformedExample!;
      this.#log.warn(
        { code: e.code, dropped: this.#malformedUnlogged, total: this.#stats.malformedDropped, kind: e.kind },
        `${e.message} (and similar: dropped)`,
      );
      this.#malformedUnlogged = 0;
    }
  }

  #beat(): void {
    this.#publishControl(this.subjects.presence, {
      t: 'presence',
      node: this.config.nodeId,
      epoch: this.epoch,
      seq: this.#seq,
      intervalMs: this.config.presenceIntervalMs,
    });
  }

  #scheduleAnnounce(): void {
    if (this.#announceScheduled || !this.#bus.connected) return;
    this.#announceScheduled = true;
    setImmediate(() => {
      this.#announceScheduled = false;
      this.#announce();
    });
  }

  /** Publishes the changed local counts as numbered deltas (kept for later when they cannot go out). */
  #announce(): void {
    if (this.#dirty.size === 0 || !this.#bus.connected || this.#stopped) return;
    const entries: GroupCount[] = [];
    for (const g of this.#dirty) entries.push([g, this.#router.localGroupSize(g)]);
    this.#dirty.clear();
    for (const chunk of chunkGroupCounts(entries, CLUSTER_CONTROL_MESSAGE_BYTES, groupCountBytes)) {
      const sent = this.#publishControl(this.subjects.members, {
        t: 'members',
        node: this.config.nodeId,
        epoch: this.epoch,
        seq: this.#seq + 1,
        groups: chunk,
      });
      if (sent) this.#seq++;
      else for (const [g] of chunk) this.#dirty.add(g); // retried with the next change or reconnect
    }
  }

  #requestSync(node: string): void {
    this.#publishControl(this.subjects.sync(node), { t: 'sync', node: this.config.nodeId });
  }

  /** Answers a sync request with this node's whole table, in parts. */
  #sendSnapshot(to: string): void {
    const now = this.#now();
    if (now - (this.#snapshotSentMs.get(to) ?? -Infinity) < CLUSTER_SYNC_MIN_INTERVAL_MS) return;
    this.#snapshotSentMs.set(to, now);
    // Pending deltas first, so that the snapshot's number covers everything it contains.
    this.#announce();
    const entries: GroupCount[] = [];
    for (const [g, members] of this.#router.groupMemberships()) entries.push([g, members.size]);
    const chunks = chunkGroupCounts(entries, CLUSTER_CONTROL_MESSAGE_BYTES, groupCountBytes);
    if (chunks.length === 0) chunks.push([]);
    const subject = this.subjects.snapshot(to);
    chunks.forEach((groups, part) =>
      this.#publishControl(subject, {
        t: 'snapshot',
        node: this.config.nodeId,
        epoch: this.epoch,
        seq: this.#seq,
        part,
        last: part === chunks.length - 1,
        groups,
      }),
    );
  }

  #control(msg: Msg, kind: ControlMessage['t']): void {
    let m: ControlMessage;
    try {
      m = decodeControl(msg.data, kind);
    } catch (err) {
      if (err instanceof ClusterMessageError) {
        this.#malformed(err);
        return;
      }
      throw err;
    }
    const now = this.#now();
    const ms = this.#membership;
    let action: 'ok' | 'sync' = 'ok';
    switch (m.t) {
      case 'presence':
        action = ms.onPresence(m, now);
        break;
      case 'members':
        action = ms.onMembers(m, now);
        break;
      case 'snapshot':
        action = ms.onSnapshot(m, now);
        break;
      case 'sync':
        if (m.node !== this.config.nodeId) this.#sendSnapshot(m.node);
        break;
      case 'bye':
        if (ms.onBye(m)) this.#log.info({ left: m.node }, 'cluster node left');
        break;
    }
    if (action === 'sync') this.#requestSync(m.node);
  }

  #publishControl(subject: string, msg: ControlMessage): boolean {
    return this.#bus.publish(subject, encodeControl(msg));
  }

  #dropped(reason: string): void {
    this.#stats.sendsDropped++;
    this.#droppedUnlogged++;
    this.#dropReason = reason;
  }

  #malformed(err: ClusterMessageError): void {
    this.#stats.malformedDropped++;
    this.#malformedUnlogged++;
    this.#malformedExample = err;
  }
}

/** The URLs without credentials, for logs. */
export function redact(servers: readonly string[]): string[] {
  return servers.map((s) => {
    try {
      const u = new URL(s);
      return `${u.protocol}//${u.host}`;
    } catch {
      return '(invalid URL)';
    }
  });
}
