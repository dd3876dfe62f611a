/**
 * A small game-logic backend for the gateway sample (plugins/gateway): the kind of server that sits
 * behind plugbroker under a logical name (`--upstream logic=…`). It speaks the broker's framing,
 * `<len>\n<body>`, answers heartbeats (`0\n`), and this text protocol with the gateway:
 *
 *   gateway → logic   `M <msg-id> <client> <name> <body>`  a client's frame, with its identity
 *   logic → gateway   `A <msg-id> <client> <body>`         acknowledges msg-id; body goes to the client
 *                     `P <client> <body>`                  a push to one client, unprompted
 *                     `B <body>`                           a broadcast to every logged-in client
 *
 * What it does with a client's frame (`<body>`):
 *   `broadcast <text>`  broadcasts `<name>: <text>` and acknowledges with `sent`
 *   `whoami`            acknowledges with `<client>` (the number pushes to this client need)
 *   anything else       acknowledges with `<node>: <body>` (so clients can see which node served them)
 *
 *                     `U <name> <body>`                    a push to the logged-in user <name>, on
 *                                                          whichever broker node it is connected (#12)
 *
 * `<client>` is opaque here: the gateway's number for the client (its channel handle), echoed back.
 * Acknowledgements are written before the next frame is read: an acknowledged message was handled.
 *
 * It serves either way (#12): as a TCP node (`--upstream logic=127.0.0.1:7001,…`), or as a member of
 * the NATS service `logic` (`--upstream logic=nats` with `--cluster`), through nats-member.ts.
 */
import net from 'node:net';
import { once } from 'node:events';
import { DecimalDecoder } from '../../host/framing/decimal-decoder.js';
import { encodeDecimalFrame } from '../../host/framing/decimal-encoder.js';
import { serveNatsService, type MemberChannel, type NatsMember } from './nats-member.js';

/** A connection from a gateway: a TCP socket, or a channel of the NATS service. */
interface Link {
  send(text: string): void;
}

/** Options of `startLogicServer`. */
export interface LogicServerOptions {
  /** Name shown in acknowledgements (`n1: hello`). */
  name: string;
  /** Port on 127.0.0.1; 0 picks one. Default 0. */
  port?: number;
  /** Largest frame accepted, in bytes. Default 1 MiB (the broker's default). */
  maxFrameBytes?: number;
  /** Serve as a member of a NATS service instead of listening on TCP (#12). */
  nats?: { servers: string | string[]; clusterName?: string; service?: string };
}

/** A running logic server. */
export interface LogicServer {
  readonly name: string;
  readonly port: number;
  /** Messages acknowledged so far (`M` frames handled). */
  readonly acked: number;
  /** Open gateway connections. */
  readonly connections: number;
  /** Pushes `body` to `client` over every gateway connection that last carried a frame of it. */
  push(client: string, body: string): boolean;
  /** Pushes `body` to the user `name` wherever it is connected (`U`; the gateway uses a per-user group). */
  pushUser(name: string, body: string): boolean;
  /** Broadcasts `body` over one gateway connection. */
  broadcast(body: string): boolean;
  /** A crash: stop listening and reset every connection at once. */
  kill(): Promise<void>;
  /** Listens again on the same port (after `kill`). */
  restart(): Promise<void>;
}

/** Starts a logic server on 127.0.0.1. */
export async function startLogicServer(opts: LogicServerOptions): Promise<LogicServer> {
  const links = new Set<Link>();
  /** client → the link its last frame came on (pushes go back the same way). */
  const routeOf = new Map<string, Link>();
  let acked = 0;
  let server: net.Server | undefined;
  let member: NatsMember | undefined;
  let port = opts.port ?? 0;

  const handle = (link: Link, frame: Uint8Array): void => {
    const text = Buffer.from(frame).toString();
    if (!text.startsWith('M ')) return;
    // M <msg-id> <client> <name> <body>
    const [, msgId, client, name] = text.split(' ', 4);
    const body = text.slice(2 + msgId.length + 1 + client.length + 1 + name.length + 1);
    routeOf.set(client, link);
    if (body === 'whoami') {
      link.send(`A ${msgId} ${client} ${client}`);
    } else if (body.startsWith('broadcast ')) {
      link.send(`B ${name}: ${body.slice('broadcast '.length)}`);
      link.send(`A ${msgId} ${client} sent`);
    } else {
      link.send(`A ${msgId} ${client} ${opts.name}: ${body}`);
    }
    acked++;
  };
  const forget = (link: Link): void => {
    links.delete(link);
    for (const [client, route] of routeOf) if (route === link) routeOf.delete(client);
  };

  const listen = async (): Promise<void> => {
    const srv = net.createServer((s) => {
      const link: Link = { send: (text) => void s.write(encodeDecimalFrame(Buffer.from(text))) };
      links.add(link);
      s.setNoDelay(true);
      const decoder = new DecimalDecoder(
        {
          onFrame: (b) => {
            if (b.length === 0)
              s.write('0\n'); // heartbeat
            else handle(link, b);
          },
        },
        opts.maxFrameBytes ?? 1024 * 1024,
      );
      s.on('data', (chunk: Buffer) => {
        if (decoder.push(chunk) !== null) s.destroy();
      });
      s.on('close', () => forget(link));
      s.on('error', () => {});
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
    });
    srv.listen({ host: '127.0.0.1', port });
    await once(srv, 'listening');
    port = (srv.address() as net.AddressInfo).port;
    server = srv;
  };
  const sockets = new Set<net.Socket>();
  const natsLinks = new Map<MemberChannel, Link>();
  const join = async (): Promise<void> => {
    const n = opts.nats!;
    member = await serveNatsService(
      { servers: n.servers, clusterName: n.clusterName, service: n.service ?? 'logic' },
      {
        onOpen(ch) {
          const link: Link = { send: (text) => void ch.send(text) };
          natsLinks.set(ch, link);
          links.add(link);
          return true;
        },
        onFrame: (ch, body) => handle(natsLinks.get(ch)!, body),
        onClose(ch) {
          const link = natsLinks.get(ch);
          natsLinks.delete(ch);
          if (link !== undefined) forget(link);
        },
      },
    );
  };
  const start = opts.nats === undefined ? listen : join;
  await start();

  return {
    name: opts.name,
    get port() {
      return port;
    },
    get acked() {
      return acked;
    },
    get connections() {
      return links.size;
    },
    push(client, body) {
      const link = routeOf.get(client);
      if (link === undefined) return false;
      link.send(`P ${client} ${body}`);
      return true;
    },
    pushUser(name, body) {
      const link = links.values().next().value as Link | undefined;
      if (link === undefined) return false;
      link.send(`U ${name} ${body}`);
      return true;
    },
    broadcast(body) {
      const link = links.values().next().value as Link | undefined;
      if (link === undefined) return false;
      link.send(`B ${body}`);
      return true;
    },
    async kill() {
      const srv = server;
      server = undefined;
      for (const s of sockets) s.resetAndDestroy();
      if (srv) await new Promise<void>((r) => srv.close(() => r()));
      const m = member;
      member = undefined;
      await m?.kill();
      natsLinks.clear();
      links.clear();
      routeOf.clear();
    },
    restart: start,
  };
}
