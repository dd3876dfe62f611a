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
 * `<client>` is opaque here: the gateway's number for the client (its channel handle), echoed back.
 * Acknowledgements are written before the next frame is read: an acknowledged message was handled.
 */
import net from 'node:net';
import { once } from 'node:events';
import { DecimalDecoder } from '../../host/framing/decimal-decoder.js';
import { encodeDecimalFrame } from '../../host/framing/decimal-encoder.js';

/** Options of `startLogicServer`. */
export interface LogicServerOptions {
  /** Name shown in acknowledgements (`n1: hello`). */
  name: string;
  /** Port on 127.0.0.1; 0 picks one. Default 0. */
  port?: number;
  /** Largest frame accepted, in bytes. Default 1 MiB (the broker's default). */
  maxFrameBytes?: number;
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
  /** Broadcasts `body` over one gateway connection. */
  broadcast(body: string): boolean;
  /** A crash: stop listening and reset every connection at once. */
  kill(): Promise<void>;
  /** Listens again on the same port (after `kill`). */
  restart(): Promise<void>;
}

/** Starts a logic server on 127.0.0.1. */
export async function startLogicServer(opts: LogicServerOptions): Promise<LogicServer> {
  const sockets = new Set<net.Socket>();
  /** client → the connection its last frame came on (pushes go back the same way). */
  const routeOf = new Map<string, net.Socket>();
  let acked = 0;
  let server: net.Server | undefined;
  let port = opts.port ?? 0;
  const send = (s: net.Socket, text: string): void => void s.write(encodeDecimalFrame(Buffer.from(text)));

  const handle = (s: net.Socket, frame: Buffer): void => {
    if (frame.length === 0) {
      s.write('0\n'); // heartbeat
      return;
    }
    const text = frame.toString();
    if (!text.startsWith('M ')) return;
    // M <msg-id> <client> <name> <body>
    const [, msgId, client, name] = text.split(' ', 4);
    const body = text.slice(2 + msgId.length + 1 + client.length + 1 + name.length + 1);
    routeOf.set(client, s);
    if (body === 'whoami') {
      send(s, `A ${msgId} ${client} ${client}`);
    } else if (body.startsWith('broadcast ')) {
      send(s, `B ${name}: ${body.slice('broadcast '.length)}`);
      send(s, `A ${msgId} ${client} sent`);
    } else {
      send(s, `A ${msgId} ${client} ${opts.name}: ${body}`);
    }
    acked++;
  };

  const listen = async (): Promise<void> => {
    const srv = net.createServer((s) => {
      sockets.add(s);
      s.setNoDelay(true);
      const decoder = new DecimalDecoder({ onFrame: (b) => handle(s, b) }, opts.maxFrameBytes ?? 1024 * 1024);
      s.on('data', (chunk: Buffer) => {
        if (decoder.push(chunk) !== null) s.destroy();
      });
      s.on('close', () => {
        sockets.delete(s);
        for (const [client, route] of routeOf) if (route === s) routeOf.delete(client);
      });
      s.on('error', () => {});
    });
    srv.listen({ host: '127.0.0.1', port });
    await once(srv, 'listening');
    port = (srv.address() as net.AddressInfo).port;
    server = srv;
  };
  await listen();

  return {
    name: opts.name,
    get port() {
      return port;
    },
    get acked() {
      return acked;
    },
    get connections() {
      return sockets.size;
    },
    push(client, body) {
      const s = routeOf.get(client);
      if (s === undefined) return false;
      send(s, `P ${client} ${body}`);
      return true;
    },
    broadcast(body) {
      const s = sockets.values().next().value as net.Socket | undefined;
      if (s === undefined) return false;
      send(s, `B ${body}`);
      return true;
    },
    async kill() {
      const srv = server;
      server = undefined;
      for (const s of sockets) s.resetAndDestroy();
      if (srv) await new Promise<void>((r) => srv.close(() => r()));
    },
    restart: listen,
  };
}
