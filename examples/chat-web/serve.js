#!/usr/bin/env node
// Serves the chat page: examples/chat-web/ at `/` and the client SDK's browser build
// (client-sdk-ts/dist/) at `/sdk/`. With `--broker`, also runs a broker with the chat plugin on a
// ws:// listener and prints the page's URL with `?url=` pointing at it.
//
//   node examples/chat-web/serve.js [--port 8080] [--host 127.0.0.1] [--broker [--broker-port 10242]]
//
// A dozen lines of node:http rather than a static-server package: three fixed files and one
// directory, GET/HEAD only, nothing outside them (no `..`, no directory listings).
import { createServer } from 'node:http';
import { readFile } from 'node:fs/promises';
import { extname, join, normalize, sep } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';

const HERE = fileURLToPath(new URL('.', import.meta.url));
const ROOT = join(HERE, '../..');
const SDK_DIST = join(ROOT, 'client-sdk-ts/dist');
const PAGE_FILES = new Map([
  ['/', 'index.html'],
  ['/index.html', 'index.html'],
  ['/app.js', 'app.js'],
  ['/style.css', 'style.css'],
]);
const TYPES = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.css': 'text/css; charset=utf-8', '.map': 'application/json' };

/** The file a request path names, or null. */
function fileFor(pathname) {
  if (PAGE_FILES.has(pathname)) return join(HERE, PAGE_FILES.get(pathname));
  if (!pathname.startsWith('/sdk/')) return null;
  const rel = normalize(decodeURIComponent(pathname.slice('/sdk/'.length)));
  if (rel.startsWith('..') || rel.includes(`${sep}..`) || !/\.(js|js\.map)$/.test(rel)) return null;
  return join(SDK_DIST, rel);
}

/**
 * Starts the static server.
 * @param {{ host?: string, port?: number }} opts port 0 picks a free one.
 * @returns {Promise<{ url: string, port: number, close(): Promise<void> }>}
 */
export async function serveChatWeb({ host = '127.0.0.1', port = 8080 } = {}) {
  const server = createServer(async (req, res) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD' }).end();
      return;
    }
    let file;
    let body;
    try {
      // A malformed %-escape throws too: a 404 like any other path it does not serve.
      file = fileFor(new URL(req.url ?? '/', 'http://x').pathname);
      if (file === null) throw new Error('not served');
      body = await readFile(file);
    } catch {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
      return;
    }
    res.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream', 'cache-control': 'no-store' });
    res.end(req.method === 'HEAD' ? undefined : body);
  });
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, resolve);
  });
  const bound = server.address().port;
  return {
    url: `http://${host}:${bound}/`,
    port: bound,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

async function main() {
  const { values } = parseArgs({
    options: {
      host: { type: 'string', default: '127.0.0.1' },
      port: { type: 'string', default: '8080' },
      broker: { type: 'boolean', default: false },
      'broker-port': { type: 'string', default: '10242' },
    },
  });
  const port = Number(values.port);
  const brokerPort = Number(values['broker-port']);
  for (const [flag, v] of [
    ['--port', port],
    ['--broker-port', brokerPort],
  ]) {
    if (!Number.isInteger(v) || v < 0 || v > 65535) throw new Error(`${flag} must be a port number (0-65535), got ${JSON.stringify(String(v))}`);
  }
  let wsUrl;
  if (values.broker) {
    const { createBroker } = await import(pathToFileURL(join(ROOT, 'dist/host/index.js')).href);
    const broker = createBroker({ plugin: join(ROOT, 'plugins/chat-as/build/chat-as.wasm'), listen: [`ws://${values.host}:${brokerPort}/chat`] });
    await broker.start();
    wsUrl = broker.listeners[0].url;
    const stop = () => void broker.stop().then(() => process.exit(0));
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  }
  const site = await serveChatWeb({ host: values.host, port });
  console.log(wsUrl ? `open ${site.url}?url=${wsUrl}` : `serving ${site.url} (add ?url=ws://host:port/path of a broker serving plugins/chat-as)`);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((err) => {
    console.error(`chat-web: ${err.message}`);
    process.exit(1);
  });
}
