// Cluster bench (#12): what a cross-node group send costs the node that receives it, against a local
// group send of the same size on the same node, and how many NATS messages one group send makes.
//
// Setup: a real nats-server (with its monitoring port) and three `broker serve --cluster` processes
// running the `router` test plugin: A (where the cross-node publisher is connected, no members),
// B (the measured node: M members of group `bench`, and a second publisher, not a member) and C.
// Phase 1 drives two loads in turn, one measuring window each, round after round:
//   cross: the publisher on A sends batches of group sends; they reach B's members through NATS;
//   local: the publisher on B sends the same batches to the same group; B's members get them
//          locally and nothing goes to NATS (no other node has members).
// Each batch waits until every member has every message (bytes counted). The headline is B's CPU
// time (utime + stime, /proc/<pid>/stat) per delivery, cross ÷ local (target ≤ 1.3).
// Phase 2 adds 10 members on C and drives the cross load once more: two receiving nodes.
// NATS messages per group send are counted twice: a NATS subscriber on the group's subject counts
// what was published on it, and nats-server's /varz in_msgs counts every message it received from
// any client in the window (presence beats included).
//
// usage: node bench/cluster.js [--quick] [--members 100,1000] [--batch 32] [--rounds 3]
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { connect as natsConnect } from '@nats-io/transport-node';
import { killAllProcesses, ManagedProcess, pickFreePort, waitForPort } from './lib/processes.js';
import { routerPlugin } from './lib/router-plugin.js';

const benchDir = path.dirname(fileURLToPath(import.meta.url));
const repoRoot = path.dirname(benchDir);
const BODY_BYTES = 64;
const GROUP = 'bench';
const C_MEMBERS = 10;
const CLK_TCK = 100;

const { values } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    members: { type: 'string', default: '100,1000' },
    batch: { type: 'string', default: '32' },
    rounds: { type: 'string' },
  },
});
const quick = values.quick;
const memberCounts = values.members.split(',').map(Number);
const batch = Number(values.batch);
const rounds = Number(values.rounds ?? (quick ? 2 : 5));
const warmupMs = quick ? 300 : 1000;
const measureMs = quick ? 1000 : 3000;

function natsServerBinary() {
  for (const candidate of ['nats-server', '/usr/sbin/nats-server']) {
    try {
      execFileSync(candidate, ['--version'], { stdio: 'ignore' });
      return candidate;
    } catch {
      // next
    }
  }
  return undefined;
}

/** CPU seconds of `pid` so far (all threads). */
function cpuSeconds(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / CLK_TCK;
}

const name = Buffer.concat([Buffer.of(GROUP.length), Buffer.from(GROUP)]);
const frame = (body) => Buffer.concat([Buffer.from(`${body.length}\n`), body]);
const payload = Buffer.alloc(BODY_BYTES, 'x');
const join = frame(Buffer.concat([Buffer.from('j'), name]));
const deliveryBytes = frame(payload).length;
/** `b` group sends (`q`: no reply), except 0: nobody left out. */
const burst = (b) => Buffer.concat(Array.from({ length: b }, () => frame(Buffer.concat([Buffer.from('q'), name, Buffer.alloc(4), payload]))));

let received = 0;
let onProgress = null;

/** `n` members of the group on `port`; resolves once every join is answered. */
async function members(port, n) {
  const one = () =>
    new Promise((resolve, reject) => {
      const s = net.connect({ host: '127.0.0.1', port, noDelay: true });
      let ready = false;
      let seen = 0;
      s.on('error', reject);
      s.on('data', (chunk) => {
        if (ready) {
          received += chunk.length;
          onProgress?.();
          return;
        }
        if ((seen += chunk.length) >= 3) {
          ready = true;
          resolve(s);
        }
      });
      s.write(join);
    });
  const out = [];
  for (let i = 0; i < n; i += 200) out.push(...(await Promise.all(Array.from({ length: Math.min(200, n - i) }, one))));
  return out;
}

function publisher(port) {
  return new Promise((resolve, reject) => {
    const s = net.connect({ host: '127.0.0.1', port, noDelay: true }, () => resolve(s));
    s.on('error', reject);
    s.on('data', () => {});
  });
}

/** Sends batches through `pub` for `ms`; each waits until `expectBytes` arrived at the members. */
async function drive(pub, bytes, expectBytes, ms) {
  const start = performance.now();
  let batches = 0;
  while (performance.now() - start < ms) {
    received = 0;
    await new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`batch not delivered within 30 s (${received}/${expectBytes} bytes)`)), 30_000);
      onProgress = () => {
        if (received >= expectBytes) {
          clearTimeout(timer);
          onProgress = null;
          resolve();
        }
      };
      pub.write(bytes);
    });
    batches++;
  }
  return { batches, elapsedMs: performance.now() - start };
}

async function varzInMsgs(monitorPort) {
  const res = await fetch(`http://127.0.0.1:${monitorPort}/varz`);
  return (await res.json()).in_msgs;
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function main() {
  const natsBin = natsServerBinary();
  if (natsBin === undefined) {
    console.log('nats-server: not installed (apt-get install -y nats-server); nothing to measure');
    return;
  }
  const plugin = await routerPlugin(repoRoot);
  const natsPort = await pickFreePort();
  const monitorPort = await pickFreePort();
  const nats = new ManagedProcess('nats-server', natsBin, ['-a', '127.0.0.1', '-p', String(natsPort), '-m', String(monitorPort)]);
  await waitForPort(natsPort, nats, 10_000);
  await waitForPort(monitorPort, nats, 10_000);
  const natsUrl = `nats://127.0.0.1:${natsPort}`;
  const node = async (id) => {
    const port = await pickFreePort();
    const proc = new ManagedProcess(
      `node ${id}`,
      process.execPath,
      [
        'bin/broker.js',
        'serve',
        '--plugin',
        plugin,
        '--port',
        String(port),
        '--log-level',
        'warn',
        '--max-connections',
        '0',
        '--ping-interval-ms',
        '0',
        '--idle-timeout-ms',
        '0',
        '--cluster',
        natsUrl,
        '--node-id',
        id,
      ],
      { cwd: repoRoot },
    );
    await waitForPort(port, proc, 15_000);
    return { id, port, proc };
  };
  const [a, b, c] = [await node('a'), await node('b'), await node('c')];
  // A NATS subscriber counting what is published on the group's subject.
  const nc = await natsConnect({ servers: natsUrl });
  let onSubject = 0;
  nc.subscribe(`pb.plugbroker.v1.g.${Buffer.from(GROUP).toString('base64url')}`, { callback: () => void onSubject++ });
  await nc.flush();

  const bytes = burst(batch);
  const results = [];
  for (const m of memberCounts) {
    const bMembers = await members(b.port, m);
    const pubA = await publisher(a.port);
    const pubB = await publisher(b.port);
    const expectBytes = m * batch * deliveryBytes;
    // Until A has heard B's memberships its sends would go nowhere: send single ones until one arrives.
    const deadline = Date.now() + 20_000;
    for (;;) {
      received = 0;
      pubA.write(burst(1));
      await new Promise((r) => setTimeout(r, 200));
      if (received >= m * deliveryBytes) break;
      if (Date.now() > deadline) throw new Error('node a never saw the members of b');
    }
    await new Promise((r) => setTimeout(r, 300));
    // Phase 1: B's CPU, cross-node against local (C has no members: the local send stays local).
    const samples = { cross: [], local: [] };
    const counts = { cross: { subject: 0, varz: 0, sends: 0 }, local: { subject: 0, varz: 0, sends: 0 } };
    for (let r = 0; r < rounds; r++) {
      for (const [load, pub] of [
        ['cross', pubA],
        ['local', pubB],
      ]) {
        await drive(pub, bytes, expectBytes, warmupMs);
        const cpu0 = cpuSeconds(b.proc.pid);
        const subject0 = onSubject;
        const varz0 = await varzInMsgs(monitorPort);
        const { batches } = await drive(pub, bytes, expectBytes, measureMs);
        const cpu = cpuSeconds(b.proc.pid) - cpu0;
        await nc.flush();
        counts[load].subject += onSubject - subject0;
        counts[load].varz += (await varzInMsgs(monitorPort)) - varz0;
        counts[load].sends += batches * batch;
        samples[load].push((cpu * 1e6) / (batches * batch * m));
      }
    }
    // Phase 2: members on C too: still one NATS message per group send, now read by two nodes.
    const cMembers = await members(c.port, C_MEMBERS);
    const twoNodeBytes = (m + C_MEMBERS) * batch * deliveryBytes;
    const deadline2 = Date.now() + 20_000;
    for (;;) {
      received = 0;
      pubA.write(burst(1));
      await new Promise((r) => setTimeout(r, 200));
      if (received >= (m + C_MEMBERS) * deliveryBytes) break;
      if (Date.now() > deadline2) throw new Error('node a never saw the members of c');
    }
    const subject0 = onSubject;
    const varz0 = await varzInMsgs(monitorPort);
    const { batches: twoNodeBatches } = await drive(pubA, bytes, twoNodeBytes, measureMs);
    await nc.flush();
    const twoNode = { subject: onSubject - subject0, varz: (await varzInMsgs(monitorPort)) - varz0, sends: twoNodeBatches * batch };

    const cross = median(samples.cross);
    const local = median(samples.local);
    results.push({
      membersOnB: m,
      batch,
      crossCpuUsPerDelivery: Number(cross.toFixed(3)),
      localCpuUsPerDelivery: Number(local.toFixed(3)),
      crossSamples: samples.cross.map((x) => Number(x.toFixed(3))),
      localSamples: samples.local.map((x) => Number(x.toFixed(3))),
      ratioCrossToLocal: Number((cross / local).toFixed(2)),
      natsMessagesPerGroupSend: Number((counts.cross.subject / counts.cross.sends).toFixed(4)),
      natsInMsgsPerGroupSendVarz: Number((counts.cross.varz / counts.cross.sends).toFixed(4)),
      natsMessagesPerLocalOnlyGroupSend: Number((counts.local.subject / counts.local.sends).toFixed(4)),
      twoReceivingNodes: {
        membersOnC: C_MEMBERS,
        natsMessagesPerGroupSend: Number((twoNode.subject / twoNode.sends).toFixed(4)),
        natsInMsgsPerGroupSendVarz: Number((twoNode.varz / twoNode.sends).toFixed(4)),
      },
    });
    for (const s of [...bMembers, ...cMembers, pubA, pubB]) s.destroy();
    await new Promise((r) => setTimeout(r, 500));
  }
  await nc.close();

  console.log(
    `\nload average ${os
      .loadavg()
      .map((x) => x.toFixed(1))
      .join(' ')}; ${rounds} rounds × ${measureMs} ms per load, batch ${batch}, ${BODY_BYTES} B bodies`,
  );
  console.log(
    '\n| members on B | B CPU µs/delivery, cross-node (samples) | local (samples) | cross ÷ local | NATS msgs per group send, 1 receiving node (subject / varz in) | 2 receiving nodes | local-only send |',
  );
  console.log('|---|---|---|---|---|---|---|');
  for (const r of results) {
    const t = r.twoReceivingNodes;
    console.log(
      `| ${r.membersOnB} | ${r.crossCpuUsPerDelivery} (${r.crossSamples.join(', ')}) | ${r.localCpuUsPerDelivery} (${r.localSamples.join(', ')}) | ${r.ratioCrossToLocal} | ${r.natsMessagesPerGroupSend} / ${r.natsInMsgsPerGroupSendVarz} | ${t.natsMessagesPerGroupSend} / ${t.natsInMsgsPerGroupSendVarz} | ${r.natsMessagesPerLocalOnlyGroupSend} |`,
    );
  }
  const dir = path.join(benchDir, 'results');
  mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `cluster-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
  writeFileSync(file, JSON.stringify({ quick, rounds, warmupMs, measureMs, bodyBytes: BODY_BYTES, loadavg: os.loadavg(), results }, null, 2));
  console.log(`\n${file}`);
  for (const n of [a, b, c]) await n.proc.stop();
  await nats.stop();
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(err);
    killAllProcesses();
    process.exit(1);
  },
);
