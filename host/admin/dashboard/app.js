// The plugbroker dashboard: one page, no build step. It reads GET /api/v1/status once, then one
// snapshot per second from GET /api/v1/events (Server-Sent Events, read with fetch so that the
// Authorization header can be sent: EventSource cannot send one), and draws the last two minutes
// with uPlot. Every number is also shown as text; each such element carries its raw value in
// `data-value`.

const TOKEN_KEY = 'plugbroker-admin-token';
const HISTORY_POINTS = 120;
const RETRY_MS = 2000;
const TRANSPORTS = ['tcp', 'tls', 'ws', 'wss'];
const COLORS = ['#2b6cb0', '#2f855a', '#b7791f', '#c53030', '#6b46c1', '#2c7a7b', '#975a16', '#b83280', '#4a5568', '#dd6b20', '#319795'];

const $ = (id) => document.getElementById(id);
let token = sessionStorage.getItem(TOKEN_KEY) ?? '';

/** Time series kept for the charts: x in seconds, then one array per series. */
const history = {
  t: [],
  conns: TRANSPORTS.map(() => []),
  framesIn: [],
  framesOut: [],
  bytesIn: [],
  bytesOut: [],
  p50: [],
  p99: [],
  closes: new Map(),
  refusals: new Map(),
};
const charts = {};

function headers() {
  return token === '' ? {} : { authorization: `Bearer ${token}` };
}

function setText(id, value, text) {
  const el = $(id);
  if (el === null) return;
  el.dataset.value = String(value);
  el.textContent = text ?? fmtCount(value);
}

function fmtCount(n) {
  return Number.isFinite(n) ? Math.round(n).toLocaleString('en-US') : '–';
}

function fmtRate(n) {
  if (!Number.isFinite(n)) return '–';
  return n >= 100 ? Math.round(n).toLocaleString('en-US') : n.toFixed(1);
}

function fmtBytes(n) {
  if (!Number.isFinite(n)) return '–';
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) {
    n /= 1024;
    i++;
  }
  return `${i === 0 ? Math.round(n) : n.toFixed(1)} ${units[i]}`;
}

function fmtSeconds(s) {
  if (s === null || s === undefined || !Number.isFinite(s)) return '–';
  if (s < 1e-3) return `${(s * 1e6).toFixed(1)} µs`;
  if (s < 1) return `${(s * 1e3).toFixed(2)} ms`;
  return `${s.toFixed(2)} s`;
}

function fmtDuration(s) {
  const d = Math.floor(s / 86400);
  const h = Math.floor((s % 86400) / 3600);
  const m = Math.floor((s % 3600) / 60);
  return d > 0 ? `up ${d}d ${h}h` : h > 0 ? `up ${h}h ${m}m` : `up ${m}m ${Math.floor(s % 60)}s`;
}

function badge(el, text, cls) {
  el.textContent = text;
  el.className = `badge ${cls}`;
}

function showTokenForm(message) {
  $('main').hidden = true;
  $('token-form').hidden = false;
  $('token-error').textContent = message ?? '';
  badge($('phase'), 'token needed', 'warn');
  $('token-input').focus();
}

$('token-form').addEventListener('submit', (event) => {
  event.preventDefault();
  token = $('token-input').value.trim();
  sessionStorage.setItem(TOKEN_KEY, token);
  void start();
});

async function start() {
  let res;
  try {
    res = await fetch('/api/v1/status', { headers: headers(), cache: 'no-store' });
  } catch {
    badge($('phase'), 'unreachable', 'bad');
    setTimeout(start, RETRY_MS);
    return;
  }
  if (res.status === 401) {
    showTokenForm(token === '' ? '' : 'That token was refused.');
    return;
  }
  if (!res.ok) {
    badge($('phase'), `error ${res.status}`, 'bad');
    setTimeout(start, RETRY_MS);
    return;
  }
  const status = await res.json();
  $('version').textContent = `v${status.version}`;
  $('token-form').hidden = true;
  $('main').hidden = false;
  void stream();
}

/** Reads the event stream until it ends, then reconnects. */
async function stream() {
  try {
    const res = await fetch('/api/v1/events', { headers: headers(), cache: 'no-store' });
    if (res.status === 401) {
      showTokenForm('That token was refused.');
      return;
    }
    if (!res.ok || res.body === null) throw new Error(`events: ${res.status}`);
    const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
    let buffered = '';
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      buffered += value;
      let end;
      while ((end = buffered.indexOf('\n\n')) >= 0) {
        onBlock(buffered.slice(0, end));
        buffered = buffered.slice(end + 2);
      }
    }
  } catch {
    // fall through to the retry
  }
  badge($('phase'), 'reconnecting…', 'warn');
  setTimeout(stream, RETRY_MS);
}

function onBlock(block) {
  let event = 'message';
  let data = '';
  for (const line of block.split('\n')) {
    if (line.startsWith('event:')) event = line.slice(6).trim();
    else if (line.startsWith('data:')) data += line.slice(5).trimStart();
  }
  if (event === 'snapshot' && data !== '') onSnapshot(JSON.parse(data));
}

function onSnapshot(s) {
  badge($('phase'), s.phase + (s.ready ? '' : ' (not ready)'), s.ready ? 'ok' : s.phase === 'serving' ? 'warn' : 'bad');
  $('uptime').textContent = fmtDuration(s.uptimeSeconds);
  $('updated').textContent = `updated ${new Date(s.t).toLocaleTimeString()}`;
  $('updated').dataset.value = String(s.t);

  setText('conn-total', s.connections.total);
  for (const t of TRANSPORTS) setText(`conn-${t}`, s.connections[t]);
  setText('frames-in-rate', s.rates.framesIn, fmtRate(s.rates.framesIn));
  setText('frames-out-rate', s.rates.framesOut, fmtRate(s.rates.framesOut));
  setText('frames-in-total', s.traffic.framesIn);
  setText('frames-out-total', s.traffic.framesOut);
  const dropped = Object.values(s.framesDropped).reduce((a, b) => a + (b ?? 0), 0);
  setText('frames-dropped', dropped);
  setText('bytes-in-rate', s.rates.bytesIn, `${fmtBytes(s.rates.bytesIn)}/s`);
  setText('bytes-out-rate', s.rates.bytesOut, `${fmtBytes(s.rates.bytesOut)}/s`);
  setText('bytes-in-total', s.traffic.bytesIn, fmtBytes(s.traffic.bytesIn));
  setText('bytes-out-total', s.traffic.bytesOut, fmtBytes(s.traffic.bytesOut));

  const p = s.plugin;
  if (p !== null) {
    badge($('plugin-health'), p.health, p.health === 'ok' ? 'ok' : p.health === 'restarting' ? 'warn' : 'bad');
    $('plugin-health').dataset.value = p.health;
    $('plugin-path').textContent = p.path;
    setText('plugin-restarts', p.restarts);
    setText('plugin-generation', p.generation);
    setText('plugin-memory', p.memoryBytes, fmtBytes(p.memoryBytes));
    $('plugin-isolation').textContent = p.isolation;
  }
  const calls = s.pluginCalls;
  setText('call-p50', calls?.p50 ?? '', fmtSeconds(calls?.p50));
  setText('call-p99', calls?.p99 ?? '', fmtSeconds(calls?.p99));

  renderCounts('closed-table', s.closed.total);
  renderCounts('refused-table', s.refused.total);
  $('group-count').textContent = `(${fmtCount(s.groups.count)} in all)`;
  renderRows(
    'groups-table',
    ['group', 'members'],
    s.groups.largest.map((g) => [g.name, g.size]),
  );
  renderRows(
    'upstreams-table',
    ['service', 'node', 'state', 'channels'],
    s.upstreams.flatMap((svc) => svc.nodes.map((n) => [svc.service, n.node, n.up ? 'up' : 'ejected', n.activeChannels])),
  );

  record(s);
  draw();
}

function renderCounts(id, counts) {
  const rows = Object.entries(counts)
    .filter(([, v]) => (v ?? 0) > 0)
    .sort((a, b) => b[1] - a[1]);
  renderRows(
    id,
    ['reason', 'count'],
    rows.map(([k, v]) => [k, v]),
  );
}

function renderRows(id, head, rows) {
  const table = $(id);
  table.replaceChildren();
  const tr = document.createElement('tr');
  for (const h of head) {
    const th = document.createElement('th');
    th.textContent = h;
    tr.append(th);
  }
  table.append(tr);
  if (rows.length === 0) {
    const empty = document.createElement('tr');
    const td = document.createElement('td');
    td.colSpan = head.length;
    td.className = 'muted';
    td.textContent = 'none';
    empty.append(td);
    table.append(empty);
    return;
  }
  for (const row of rows) {
    const r = document.createElement('tr');
    for (const cell of row) {
      const td = document.createElement('td');
      if (typeof cell === 'number') {
        td.className = 'num';
        td.dataset.value = String(cell);
        td.textContent = fmtCount(cell);
      } else td.textContent = cell;
      r.append(td);
    }
    table.append(r);
  }
}

function push(arr, v) {
  arr.push(v);
  if (arr.length > HISTORY_POINTS) arr.shift();
}

/** Appends one point to every series; a reason seen for the first time gets a series of zeros. */
function record(s) {
  const h = history;
  push(h.t, s.t / 1000);
  TRANSPORTS.forEach((t, i) => push(h.conns[i], s.connections[t]));
  push(h.framesIn, s.rates.framesIn);
  push(h.framesOut, s.rates.framesOut);
  push(h.bytesIn, s.rates.bytesIn);
  push(h.bytesOut, s.rates.bytesOut);
  push(h.p50, s.pluginCalls === null ? null : s.pluginCalls.p50 * 1e6);
  push(h.p99, s.pluginCalls === null ? null : s.pluginCalls.p99 * 1e6);
  for (const [map, perSecond] of [
    [h.closes, s.closed.perSecond],
    [h.refusals, s.refused.perSecond],
  ]) {
    for (const reason of Object.keys(perSecond)) if (!map.has(reason)) map.set(reason, h.t.map(() => 0).slice(0, -1));
    for (const [reason, series] of map) push(series, perSecond[reason] ?? 0);
  }
}

function chartOptions(el, series, yLabel) {
  return {
    width: Math.max(300, el.clientWidth),
    height: 170,
    cursor: { drag: { x: false, y: false } },
    scales: { x: { time: true } },
    axes: [{}, { label: yLabel, size: 60 }],
    series: [{}, ...series.map((label, i) => ({ label, stroke: COLORS[i % COLORS.length], width: 1.5, spanGaps: true }))],
  };
}

/** (Re)creates a chart when its series changed, else updates its data. */
function plot(key, elId, labels, data, yLabel) {
  const el = $(elId);
  const existing = charts[key];
  if (existing === undefined || existing.labels.join() !== labels.join()) {
    existing?.chart.destroy();
    charts[key] = { labels, chart: new uPlot(chartOptions(el, labels, yLabel), data, el) };
    return;
  }
  existing.chart.setData(data);
}

function draw() {
  const h = history;
  plot('connections', 'chart-connections', TRANSPORTS, [h.t, ...h.conns], 'connections');
  plot('frames', 'chart-frames', ['in', 'out'], [h.t, h.framesIn, h.framesOut], 'frames/s');
  plot('bytes', 'chart-bytes', ['in', 'out'], [h.t, h.bytesIn, h.bytesOut], 'bytes/s');
  plot('latency', 'chart-latency', ['p50 µs', 'p99 µs'], [h.t, h.p50, h.p99], 'µs');
  plot('closes', 'chart-closes', [...h.closes.keys()], [h.t, ...h.closes.values()], 'closes/s');
  plot('refusals', 'chart-refusals', [...h.refusals.keys()], [h.t, ...h.refusals.values()], 'refusals/s');
}

window.addEventListener('resize', () => {
  for (const { chart } of Object.values(charts)) chart.setSize({ width: Math.max(300, chart.root.parentElement.clientWidth), height: 170 });
});

void start();
