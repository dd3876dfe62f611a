/**
 * A close the broker decides reaches a WebSocket client at once (issue #10): the close frame with
 * its code goes out and the closing handshake finishes, instead of the socket waiting out the close
 * linger (which is only the deadline for a peer that never answers). The linger is raised to 60 s
 * here so that "at once" and "after the linger" are far apart whatever the machine's load.
 */
import { once } from 'node:events';
import type net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket, WebSocketServer } from 'ws';
import { Connection, type ConnectionEvents, type ConnectionPolicy } from '../../host/connection/connection.js';
import { OutboundArena } from '../../host/connection/outbound-arena.js';
import { CLOSE_REASONS } from '../../host/plugin/world.js';
import { WsTransport } from '../../host/transport/ws-transport.js';
import { waitFor } from '../helpers/wait.js';

const LINGER_MS = 60_000;
const POLICY: ConnectionPolicy = Object.freeze({
  maxFrameBytes: 1024,
  maxOutboundBytes: 65_536,
  closeLingerMs: LINGER_MS,
  rateFrames: 0,
  rateBytes: 0,
  rateBurst: 1,
  rateAction: 'close',
  authRequired: false,
  preAuthMaxFrames: 8,
  preAuthMaxBytes: 1024,
});

describe('WebSocket close', () => {
  let wss: WebSocketServer | undefined;
  afterEach(async () => {
    for (const c of wss?.clients ?? []) c.terminate();
    await new Promise((r) => wss?.close(r) ?? r(undefined));
    wss = undefined;
  });

  for (const drainFirst of [false, true]) {
    it(`sends the close code and ends the socket long before the close linger${drainFirst ? ' (after reading stopped for a drain)' : ''}`, async () => {
      wss = new WebSocketServer({ host: '127.0.0.1', port: 0, maxPayload: POLICY.maxFrameBytes });
      await once(wss, 'listening');
      const transportClosed: Connection[] = [];
      const events: ConnectionEvents = {
        onFrame: (conn, body) => {
          // The plugin replies, then closes the connection: the reply must arrive before the close.
          conn.send(body, 0, body.length);
          if (drainFirst) conn.stopReading();
          conn.close('closed-by-plugin');
        },
        onClosed: () => {},
        onProtocolError: () => {},
        onLimit: () => {},
        onTransportClosed: (conn) => void transportClosed.push(conn),
      };
      wss.on('connection', (ws, req) => {
        const socket = req.socket as net.Socket;
        new Connection(
          1,
          new WsTransport(ws, socket, { secure: false, compression: false, maxFrameBytes: POLICY.maxFrameBytes }),
          events,
          POLICY,
          new OutboundArena(),
        ).open();
      });
      const { port } = wss.address() as net.AddressInfo;
      const client = new WebSocket(`ws://127.0.0.1:${port}`);
      await once(client, 'open');
      const received: string[] = [];
      client.on('message', (m: Buffer) => void received.push(m.toString()));
      const closed = once(client, 'close') as Promise<[number, Buffer]>;
      const startedMs = Date.now();
      client.send('bye');
      const [code, reason] = await closed;
      const elapsedMs = Date.now() - startedMs;
      expect(received).toEqual(['bye']);
      expect(code).toBe(4000 + CLOSE_REASONS.indexOf('closed-by-plugin'));
      expect(reason.toString()).toBe('closed-by-plugin');
      // Before the fix this took the whole linger (60 s); a quarter of it is far above scheduling noise.
      expect(elapsedMs).toBeLessThan(LINGER_MS / 4);
      // The server side is fully closed too, not left for the linger timer.
      await waitFor(() => transportClosed.length > 0, 'the server side to close', { deadlineMs: LINGER_MS / 4 });
      expect(transportClosed).toHaveLength(1);
    }, 90_000);
  }
});
