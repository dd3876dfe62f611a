// raw-ws-echo: the baseline of the WebSocket benchmark. A bare `ws` echo server as a Node user
// writes one: `perMessageDeflate: false`, `clientTracking: false` (what the broker runs with), and
// each message sent back with `ws.send`, which is one socket write per message (ws corks only one
// frame's header and payload).
//
// usage: node bench/raw-ws-echo.js --port N   (0 picks a port); prints "listening <port>" when ready.
import { parseArgs } from 'node:util';
import { WebSocketServer } from 'ws';

const { values } = parseArgs({ options: { port: { type: 'string', default: '0' } } });
const wss = new WebSocketServer({ host: '127.0.0.1', port: Number(values.port), perMessageDeflate: false, clientTracking: false, maxPayload: 1 << 20 });
wss.on('connection', (ws) => {
  ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary }));
  ws.on('error', () => {});
});
wss.on('listening', () => console.log(`listening ${wss.address().port}`));
