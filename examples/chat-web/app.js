// The chat page: the client SDK's browser build (served under /sdk/) against the chat plugin
// (plugins/chat-as) over ws://. The broker URL comes from `?url=ws://…`.
//
// The plugin's commands (plugins/chat-as/assembly/index.ts): `join <room>` → `joined <room> <n>`,
// `say <room> <text>` → the others get `<room>: <text>` and the sender `sent <count>`. Rooms live in
// the broker and a connection leaves them when it ends, so the page joins its room again on every
// `connected` event (a reconnect after a broker restart included).
/* global document, location */
import { BrokerClient } from './sdk/browser.js';

const params = new URLSearchParams(location.search);
const url = params.get('url') ?? `ws://${location.hostname || '127.0.0.1'}:10242/chat`;
const $ = (id) => document.getElementById(id);
const decoder = new TextDecoder();

$('broker-url').textContent = url;
if (params.has('name')) $('name').value = params.get('name');
if (params.has('room')) $('room').value = params.get('room');

/** The room this page is in (joined again after each reconnect), or null. */
let room = null;
let name = '';

function line(text, kind = '') {
  const li = document.createElement('li');
  li.textContent = text;
  if (kind) li.className = kind;
  $('messages').append(li);
  li.scrollIntoView({ block: 'end' });
}

function status(state, text) {
  $('status').dataset.state = state;
  $('status').textContent = text;
}

let client;
try {
  client = new BrokerClient(url, { offlineQueueMaxFrames: 0 });
} catch (err) {
  // A bad ?url= gets a clear line on the page instead of a dead page.
  status('disconnected', `bad URL: ${err.message} [${err.code}]`);
  throw err;
}
status('connecting', 'connecting…');

client.on('connected', (ev) => {
  status('connected', ev.connectionCount > 1 ? 'connected (reconnected)' : 'connected');
  if (ev.connectionCount > 1) line('reconnected', 'info');
  if (room !== null) client.send(`join ${room}`);
  setComposing(room !== null);
});

client.on('disconnected', (ev) => {
  const why = ev.reason ?? ev.error?.code ?? (ev.closedByClient ? 'closed' : 'connection lost');
  status('disconnected', `disconnected (${why})`);
  if (ev.wasConnected) line(`disconnected: ${why}${ev.willReconnect ? ', reconnecting…' : ''}`, 'info');
  setComposing(false);
});

client.on('reconnecting', (ev) => {
  status('connecting', `reconnecting in ${ev.delayMs} ms (attempt ${ev.attempt})…`);
});

client.on('message', (bytes) => {
  const text = decoder.decode(bytes);
  if (text.startsWith('joined ')) {
    const [, r, members] = text.split(' ');
    line(`joined ${r} (${members} here)`, 'info');
  } else if (text.startsWith('sent ')) {
    // the plugin's receipt for our own `say`: nothing to show
  } else if (text.startsWith('error: ')) {
    line(text, 'info');
  } else {
    // `<room>: <name>: <text>` from another member
    line(text.slice(text.indexOf(': ') + 2));
  }
});

function setComposing(on) {
  $('text').disabled = !on;
  $('send').disabled = !on;
}

$('join-form').addEventListener('submit', (ev) => {
  ev.preventDefault();
  name = $('name').value.trim();
  const next = $('room').value.trim();
  if (!name || !next || next.includes(' ')) return;
  if (room !== null && room !== next) client.send(`leave ${room}`);
  room = next;
  if (client.send(`join ${room}`)) setComposing(true);
});

$('say-form').addEventListener('submit', (ev) => {
  ev.preventDefault();
  const text = $('text').value;
  if (!text || room === null) return;
  if (client.send(`say ${room} ${name}: ${text}`)) {
    line(`${name}: ${text}`, 'mine');
    $('text').value = '';
  }
});
