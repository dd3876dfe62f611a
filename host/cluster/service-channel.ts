/**
 * An upstream channel to a NATS service (`--upstream logic=nats`, #12): a `Transport` whose peer
 * is one member of the NATS queue group `logic`, so the channel is an ordinary `Connection` (same
 * limits, heartbeats, outbound batching and close rules as a TCP upstream). The wire protocol is
 * docs/cluster-services.md; in short:
 *
 * - open: a request on `pb.<cluster>.svc.<service>` (queue group `<service>`), body = the key,
 *   header `Pb-Proto: 1`, reply-to = this channel's subject `pb.<cluster>.ch.<node>.<token>`;
 * - the member accepts with a message to that subject carrying `Pb-Op: accept` and, as its
 *   reply-to, the subject where it takes this channel's frames (or refuses with `Pb-Op: close`);
 * - frames both ways are plain messages, the body is the frame (empty: a heartbeat), published with
 *   the sender's subject as reply-to, so that a publish to a peer that vanished comes back as
 *   NATS's "no responders" status (503) and ends the channel at once;
 * - close: a message with `Pb-Op: close`, either way.
 *
 * Message transport (`inbound: 'messages'`, `outbound: null`): each body the connection writes is
 * one NATS message; nothing is framed or parsed twice.
 */
import { headers as natsHeaders, type Msg, type MsgHdrs } from '@nats-io/transport-node';
import { ClusterMessageError, FrameTooLargeError } from '../errors.js';
import type { CloseReason } from '../plugin/world.js';
import type { ConnectEvents } from '../transport/tcp-connect.js';
import type { Transport, TransportHandler } from '../transport/transport.js';
import type { NatsBus } from './nats-bus.js';

/** Version of the service protocol, sent as `Pb-Proto` with every open. */
export const SERVICE_PROTOCOL_VERSION = '1';
/** Header naming a control message: `accept` or `close`. */
export const OP_HEADER = 'Pb-Op';
/** Header of an open request: the protocol version. */
export const PROTO_HEADER = 'Pb-Proto';

/** What a service channel needs from its cluster node. */
export interface ServiceChannelHost {
  readonly bus: NatsBus;
  readonly maxFrameBytes: number;
  /** The channel is gone: forget its token. */
  forget(token: string): void;
  /** A malformed message on the channel's subject (counted). */
  malformed(err: ClusterMessageError): void;
}

const EMPTY = new Uint8Array(0);

function opHeaders(op: 'accept' | 'close'): MsgHdrs {
  const h = natsHeaders();
  h.set(OP_HEADER, op);
  return h;
}

type State = 'opening' | 'open' | 'closed';

export class ServiceChannelTransport implements Transport {
  readonly kind = 'tcp' as const;
  readonly secure = false;
  readonly inbound = 'messages' as const;
  readonly outbound = null;
  readonly remotePort = 0;
  /** `nats:<service>`, for logs. */
  readonly remoteAddress: string;
  /** This channel's subject: the member's frames and control messages arrive here. */
  readonly subject: string;
  readonly token: string;
  readonly #host: ServiceChannelHost;
  readonly #events: ConnectEvents;
  #handler: TransportHandler | undefined;
  #state: State = 'opening';
  #memberSubject = '';
  /** Bodies written before the member accepted. */
  #pending: Buffer[] = [];
  #pendingBytes = 0;
  #paused = false;
  #ending = false;
  readonly #openTimer: NodeJS.Timeout;

  /**
   * Publishes the open request at once; the channel fails (`onError`, `onClose`) when it cannot be
   * published or no member accepts within `timeoutMs`.
   */
  constructor(
    host: ServiceChannelHost,
    serviceSubject: string,
    subject: string,
    token: string,
    service: string,
    key: string,
    timeoutMs: number,
    events: ConnectEvents,
  ) {
    this.#host = host;
    this.#events = events;
    this.subject = subject;
    this.token = token;
    this.remoteAddress = `nats:${service}`;
    const h = natsHeaders();
    h.set(PROTO_HEADER, SERVICE_PROTOCOL_VERSION);
    const sent = host.bus.publish(serviceSubject, Buffer.from(key, 'utf8'), subject, h);
    this.#openTimer = setTimeout(() => this.#fail(new Error(`no member of NATS service ${service} accepted within ${timeoutMs} ms`)), sent ? timeoutMs : 0);
    this.#openTimer.unref();
  }

  get bufferedBytes(): number {
    return this.#pendingBytes;
  }

  attach(handler: TransportHandler): void {
    this.#handler = handler;
  }

  write(data: Buffer): void {
    if (this.#state === 'closed' || this.#ending) return;
    if (this.#state === 'opening') {
      this.#pending.push(data);
      this.#pendingBytes += data.length;
      return;
    }
    // The body is never rewritten by the connection (a fresh copy, or a shared run's slice).
    if (!this.#host.bus.publish(this.#memberSubject, data, this.subject)) this.#fail(new Error('NATS unreachable: frame not sent'));
  }

  writev(data: readonly Buffer[]): void {
    for (const d of data) this.write(d);
  }

  pause(): void {
    this.#paused = true;
  }

  end(_reason?: CloseReason): void {
    if (this.#state === 'closed' || this.#ending) return;
    this.#ending = true;
    if (this.#state === 'open') {
      for (const d of this.#pending) this.#host.bus.publish(this.#memberSubject, d, this.subject);
      this.#host.bus.publish(this.#memberSubject, EMPTY, this.subject, opHeaders('close'));
    }
    this.#closeSoon();
  }

  destroy(): void {
    if (this.#state === 'closed') return;
    if (this.#state === 'open' && !this.#ending) this.#host.bus.publish(this.#memberSubject, EMPTY, this.subject, opHeaders('close'));
    this.#ending = true;
    this.#closeSoon();
  }

  /** The NATS connection was lost: a member may live on, but this channel's frames would be lost. */
  lost(): void {
    this.#fail(new Error('NATS connection lost'));
  }

  /** A message on this channel's subject. */
  onMessage(msg: Msg): void {
    if (this.#state === 'closed') return;
    const h = msg.headers;
    if (h !== undefined && (h.hasError || h.code === 503)) {
      // No responders: the member (or, while opening, every member) is gone.
      this.#fail(new Error(this.#state === 'opening' ? 'no member of the NATS service' : 'the service member vanished'));
      return;
    }
    const op = h?.get(OP_HEADER) ?? '';
    if (op === 'close') {
      if (this.#state === 'opening') this.#fail(new Error('the service member refused the channel'));
      else this.#peerEnded();
      return;
    }
    if (this.#state === 'opening') {
      if (op !== 'accept' || msg.reply === undefined || msg.reply === '') {
        this.#host.malformed(new ClusterMessageError('channel', op === 'accept' ? 'an accept without a reply subject' : 'a frame before the accept'));
        this.#fail(new Error('the service member broke the protocol'));
        return;
      }
      this.#accepted(msg.reply);
      return;
    }
    if (op !== '') {
      this.#host.malformed(new ClusterMessageError('channel', `unknown ${OP_HEADER} ${JSON.stringify(op)}`));
      return;
    }
    if (this.#paused || this.#ending) return;
    const body = msg.data;
    if (body.length > this.#host.maxFrameBytes) {
      this.#handler?.onProtocolError(new FrameTooLargeError(body.length, this.#host.maxFrameBytes, 0));
      return;
    }
    this.#handler?.onMessage(body);
  }

  #accepted(memberSubject: string): void {
    clearTimeout(this.#openTimer);
    this.#state = 'open';
    this.#memberSubject = memberSubject;
    this.#events.onConnected();
    const pending = this.#pending;
    this.#pending = [];
    this.#pendingBytes = 0;
    const ending = this.#ending;
    this.#ending = false;
    for (const d of pending) this.write(d);
    if (ending) this.end();
  }

  /** The member closed the channel: like a TCP FIN (the connection answers with its own close). */
  #peerEnded(): void {
    this.#ending = true; // the connection's close must not send a close back
    this.#handler?.onEnd();
    this.#closeSoon();
  }

  #fail(err: Error): void {
    if (this.#state === 'closed') return;
    this.#ending = true;
    this.#handler?.onError(err);
    this.#closeSoon();
  }

  #closeSoon(): void {
    if (this.#state === 'closed') return;
    this.#state = 'closed';
    clearTimeout(this.#openTimer);
    this.#pending = [];
    this.#pendingBytes = 0;
    this.#host.forget(this.token);
    // Asynchronously, as a socket would: the connection may be inside a call into this transport.
    setImmediate(() => this.#handler?.onClose());
  }
}
