/**
 * The member side of plugbroker's NATS service protocol (docs/cluster-services.md), in about a
 * hundred lines of any NATS client: join the queue group of a service, accept the channels brokers
 * open, exchange frames both ways, answer heartbeats, close. `examples/logic-server` serves the
 * gateway's protocol over it; a backend in another language implements the same page.
 */
import { connect, createInbox, headers, type Msg, type MsgHdrs, type NatsConnection } from '@nats-io/transport-node';

/** One channel a broker opened to this member. */
export interface MemberChannel {
  /** The open request's key (`upstream-open(service, key)`). */
  readonly key: string;
  /** The subject where this member takes the channel's frames (the accept's reply-to). */
  readonly subject: string;
  /** Sends one frame to the broker (false once the channel is closed). */
  send(body: Uint8Array | string): boolean;
  /** Closes the channel (the broker's plugin gets `handle-broken(peer-closed)`). */
  close(): void;
  readonly closed: boolean;
}

/** What a member does with its channels. */
export interface MemberHandlers {
  /** A broker opened a channel; return false to refuse it. */
  onOpen?(ch: MemberChannel): boolean;
  /** A frame from the broker (never a heartbeat: those are answered here). */
  onFrame(ch: MemberChannel, body: Uint8Array): void;
  /** The channel ended (closed by the broker, by `close()`, or the broker vanished). */
  onClose?(ch: MemberChannel): void;
}

/** Options of `serveNatsService`. */
export interface NatsMemberOptions {
  /** NATS server URLs. */
  readonly servers: string | string[];
  /** The brokers' `--cluster-name` (default `plugbroker`). */
  readonly clusterName?: string;
  /** The service name (`--upstream <service>=nats`): the subject and the queue group. */
  readonly service: string;
}

/** A running member. */
export interface NatsMember {
  /** Channels open now. */
  readonly channels: ReadonlySet<MemberChannel>;
  /** A crash: the NATS connection closes at once, nothing is said to the brokers. */
  kill(): Promise<void>;
  /** A clean stop: every channel is closed, then the connection. */
  stop(): Promise<void>;
}

const op = (name: 'accept' | 'close'): MsgHdrs => {
  const h = headers();
  h.set('Pb-Op', name);
  return h;
};

/** Joins the queue group of `opts.service` and serves the channels brokers open to it. */
export async function serveNatsService(opts: NatsMemberOptions, handlers: MemberHandlers): Promise<NatsMember> {
  const nc: NatsConnection = await connect({ servers: opts.servers, maxReconnectAttempts: -1 });
  const prefix = `pb.${opts.clusterName ?? 'plugbroker'}`;
  // One subscription for every channel of this member: <inbox>.<n>.
  const inbox = createInbox();
  const byId = new Map<string, { ch: MemberChannel; brokerSubject: string; mySubject: string; closed: boolean }>();
  const channels = new Set<MemberChannel>();
  let next = 0;

  const end = (id: string, tellBroker: boolean): void => {
    const entry = byId.get(id);
    if (entry === undefined) return;
    entry.closed = true;
    byId.delete(id);
    channels.delete(entry.ch);
    if (tellBroker) nc.publish(entry.brokerSubject, new Uint8Array(0), { reply: entry.mySubject, headers: op('close') });
    handlers.onClose?.(entry.ch);
  };

  nc.subscribe(`${prefix}.svc.${opts.service}`, {
    queue: opts.service,
    callback: (_err, msg: Msg) => {
      const brokerSubject = msg.reply;
      if (brokerSubject === undefined || brokerSubject === '') return; // not an open request
      if (msg.headers?.get('Pb-Proto') !== '1') {
        nc.publish(brokerSubject, new Uint8Array(0), { headers: op('close') }); // a protocol version we do not speak
        return;
      }
      const id = String(++next);
      const mySubject = `${inbox}.${id}`;
      const entry = { ch: undefined as unknown as MemberChannel, brokerSubject, mySubject, closed: false };
      entry.ch = {
        key: new TextDecoder().decode(msg.data),
        subject: mySubject,
        send(body) {
          if (entry.closed) return false;
          // Our subject as reply-to: if the broker's node is gone, NATS answers 503 there.
          nc.publish(brokerSubject, body, { reply: mySubject });
          return true;
        },
        close: () => end(id, true),
        get closed() {
          return entry.closed;
        },
      };
      const ch = entry.ch;
      if (handlers.onOpen?.(ch) === false) {
        nc.publish(brokerSubject, new Uint8Array(0), { headers: op('close') });
        return;
      }
      byId.set(id, entry);
      channels.add(ch);
      nc.publish(brokerSubject, new Uint8Array(0), { reply: mySubject, headers: op('accept') });
    },
  });

  nc.subscribe(`${inbox}.*`, {
    callback: (_err, msg: Msg) => {
      const id = msg.subject.slice(inbox.length + 1);
      const entry = byId.get(id);
      if (entry === undefined) return;
      const h = msg.headers;
      // 503: the broker's node vanished; close: the broker closed the channel.
      if (h?.hasError === true || h?.get('Pb-Op') === 'close') {
        end(id, false);
        return;
      }
      if (msg.data.length === 0) {
        // A heartbeat from the broker: answer it.
        entry.ch.send(new Uint8Array(0));
        return;
      }
      handlers.onFrame(entry.ch, msg.data);
    },
  });
  await nc.flush();

  return {
    channels,
    async kill() {
      await nc.close().catch(() => {});
    },
    async stop() {
      if (nc.isClosed()) return;
      for (const id of [...byId.keys()]) end(id, true);
      await nc.drain().catch(() => {});
    },
  };
}
