/**
 * `broker serve --upstream` as a real process: the flag reaches the plugin's `upstream-open`, may be
 * repeated, and a malformed value is refused before anything is loaded.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { afterEach, describe, expect, it } from 'vitest';
import { spawnBroker, type SpawnedBroker } from '../helpers/broker.js';
import { connectClient, type TestClient } from '../helpers/client.js';
import { BROKER_BIN, ROOT, fixture } from '../helpers/paths.js';
import { UpstreamNode } from '../helpers/upstream-node.js';

const UPSTREAM = fixture('upstream');

describe('broker serve --upstream', () => {
  let b: SpawnedBroker | undefined;
  let c: TestClient | undefined;
  const nodes: UpstreamNode[] = [];
  afterEach(async () => {
    c?.close();
    b?.kill();
    await b?.exited;
    b = undefined;
    await Promise.all(nodes.splice(0).map((n) => n.stop()));
  });

  it('maps each repeated --upstream to its nodes', async () => {
    const n1 = await new UpstreamNode('n1').listen();
    const n2 = await new UpstreamNode('n2').listen();
    nodes.push(n1, n2);
    b = await spawnBroker(['--plugin', UPSTREAM, '--upstream', `logic=127.0.0.1:${n1.port}`, '--upstream', `chat=127.0.0.1:${n2.port}/least-connections`]);
    c = await connectClient(b.port);
    for (const [service, node] of [
      ['logic', 'n1'],
      ['chat', 'n2'],
    ]) {
      c.send(Buffer.concat([Buffer.from('o'), Buffer.of(service.length), Buffer.from(service)]));
      const ch = (await c.readFrame()).readUInt32LE();
      expect(ch).toBeGreaterThan(0);
      const req = Buffer.alloc(7);
      req.write('s', 0);
      req.writeUInt32LE(ch, 1);
      req.write('hi', 5);
      c.send(req);
      expect((await c.readFrame())[0]).toBe(1);
      expect((await c.readFrame()).toString()).toBe(`${node}:hi`);
    }
  });

  // Without `=`, a bad node or a bad policy: an invalid option (exit 2, one line).
  it.each([['logic'], ['logic=127.0.0.1'], ['logic=127.0.0.1:7001/fastest']])('refuses --upstream %s before loading anything', async (value) => {
    const proc = spawn(process.execPath, [BROKER_BIN, 'serve', '--plugin', UPSTREAM, '--port', '0', '--upstream', value], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    proc.stderr.setEncoding('utf8').on('data', (s: string) => (stderr += s));
    const [code] = await once(proc, 'exit');
    expect(code).toBe(2);
    expect(stderr).toMatch(/^broker: --upstream [^\n]* \[PB_ERR_INVALID_OPTION\]\n$/);
  });
});
