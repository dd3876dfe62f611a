/**
 * `ws://` and `wss://` listeners: an HTTP(S) server whose `upgrade` requests go to a `ws` server in
 * `noServer` mode (`handleUpgrade`), so that connection caps run at accept and every refusal is
 * ours to answer and count:
 *
 * - the TCP accept goes through the `AcceptGate` first, and the TLS handshake plus the upgrade must
 *   finish within the handshake deadline (a slowloris on either costs one timer);
 * - an upgrade to another path gets 404, one from a browser `Origin` not in `allowedOrigins` 403,
 *   a malformed upgrade 400 (from ws), a plain HTTP request 426 (404 on another path);
 * - `maxPayload` is `maxFrameBytes` (checked by ws from the frame header, before buffering),
 *   fragments and buffered chunks are bounded (limits.ts), permessage-deflate is off unless asked.
 */
import http from 'node:http';
import https from 'node:https';
import type net from 'node:net';
import type tls from 'node:tls';
import { WebSocketServer, type WebSocket } from 'ws';
import { WS_MAX_BUFFERED_CHUNKS, WS_MAX_FRAGMENTS } from '../limits.js';
import { admitSocket, type HandshakeRefusal } from './accept-gate.js';
import { HandshakeDeadlines } from './handshake-deadline.js';
import { bindServer, type BoundListener, type ListenerDeps } from './tcp-listener.js';
import { WsTransport } from './ws-transport.js';

/** Options of `listenWs`. */
export interface WsListenOptions extends ListenerDeps {
  host: string;
  port: number;
  /** The one path upgrades are accepted on (`/chat`). */
  path: string;
  /** Certificate and key: a `wss://` listener. Absent: `ws://`. */
  tls?: tls.SecureContextOptions;
  /** Negotiate permessage-deflate when the client offers it. */
  compression: boolean;
  /** `Origin`s a browser may connect from; empty: any. Requests without `Origin` (not from a browser) are not affected. */
  allowedOrigins: readonly string[];
  /** Largest message accepted (ws `maxPayload`). */
  maxFrameBytes: number;
}

const STATUS_TEXT: Record<number, string> = { 400: 'Bad Request', 403: 'Forbidden', 404: 'Not Found', 426: 'Upgrade Required' };

/** Answers a request on a raw (upgrade) socket and closes it. */
function rejectRaw(socket: net.Socket, status: number): void {
  if (!socket.writable) {
    socket.destroy();
    return;
  }
  const text = STATUS_TEXT[status] ?? 'Error';
  socket.once('finish', () => socket.destroy());
  socket.end(`HTTP/1.1 ${status} ${text}\r\nConnection: close\r\nContent-Type: text/plain\r\nContent-Length: ${text.length}\r\n\r\n${text}`);
}

function pathOf(url: string | undefined): string {
  const u = url ?? '/';
  const q = u.indexOf('?');
  return q === -1 ? u : u.slice(0, q);
}

/** Lower-cased `scheme://host[:port]` of an `Origin` header or an allowed origin, for comparison. */
function normaliseOrigin(origin: string): string {
  return origin.trim().replace(/\/+$/, '').toLowerCase();
}

/**
 * Binds and starts accepting WebSocket upgrades.
 * @throws {ListenError} when the address cannot be bound.
 */
export async function listenWs(opts: WsListenOptions): Promise<BoundListener> {
  const secure = opts.tls !== undefined;
  const hs = new HandshakeDeadlines(opts.handshakeTimeoutMs, opts.gate);
  const allowed = new Set(opts.allowedOrigins.map(normaliseOrigin));
  const wss = new WebSocketServer({
    noServer: true,
    clientTracking: false,
    maxPayload: opts.maxFrameBytes,
    maxBufferedChunks: WS_MAX_BUFFERED_CHUNKS,
    maxFragments: WS_MAX_FRAGMENTS,
    perMessageDeflate: opts.compression ? { serverNoContextTakeover: true, clientNoContextTakeover: true } : false,
  });
  /** Refuses the connection under `socket` for `reason`, counted once (not after its deadline passed). */
  const refuse = (socket: net.Socket, reason: HandshakeRefusal): void => {
    if (hs.finish(socket)) opts.gate.refuse(reason);
  };
  // ws answers a malformed upgrade itself when nobody listens; listening lets it be counted.
  wss.on('wsClientError', (_err: Error, socket: net.Socket) => {
    refuse(socket, 'ws-bad-request');
    rejectRaw(socket, 400);
  });

  const server = secure ? https.createServer({ ...opts.tls, handshakeTimeout: opts.handshakeTimeoutMs }) : http.createServer();
  // Runs before the HTTP (or TLS) layer takes the socket: a refused connection costs nothing more.
  server.prependListener('connection', (socket: net.Socket) => {
    if (admitSocket(opts.gate, socket)) hs.start(socket);
  });
  if (secure) {
    server.on('tlsClientError', (_err: Error, socket: tls.TLSSocket) => {
      refuse(socket, 'tls-handshake-failed');
      socket.destroy();
    });
  }
  server.on('clientError', (_err: Error, socket: net.Socket) => {
    refuse(socket, 'ws-bad-request');
    rejectRaw(socket, 400);
  });
  server.on('request', (req: http.IncomingMessage, res: http.ServerResponse) => {
    const wrongPath = pathOf(req.url) !== opts.path;
    refuse(req.socket, wrongPath ? 'ws-wrong-path' : 'ws-bad-request');
    const status = wrongPath ? 404 : 426;
    const text = STATUS_TEXT[status];
    res.writeHead(status, { Connection: 'close', 'Content-Type': 'text/plain', ...(status === 426 ? { Upgrade: 'websocket' } : {}) });
    res.end(text);
  });
  server.on('upgrade', (req: http.IncomingMessage, socket: net.Socket, head: Buffer) => {
    if (pathOf(req.url) !== opts.path) {
      refuse(socket, 'ws-wrong-path');
      rejectRaw(socket, 404);
      return;
    }
    const origin = req.headers.origin;
    if (allowed.size > 0 && origin !== undefined && !allowed.has(normaliseOrigin(origin))) {
      refuse(socket, 'ws-origin-refused');
      rejectRaw(socket, 403);
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws: WebSocket) => {
      if (!hs.finish(socket)) {
        ws.terminate();
        return;
      }
      const compression = ws.extensions.includes('permessage-deflate');
      opts.onTransport(new WsTransport(ws, socket, { secure, compression, maxFrameBytes: opts.maxFrameBytes }));
    });
  });

  const address = await bindServer(server, opts.host, opts.port, opts.backlog, opts.onError);
  return {
    address,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        hs.destroyAll();
      }),
  };
}
