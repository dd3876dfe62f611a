/**
 * `broker test --plugin <new.wasm> --replay <file.jsonl>`: reads a `--record` file
 * (recording-format.ts), replays the events it holds against another build on the test kit, and
 * compares what the build sent with what the recorded plugin sent: `channel-send`, `group-send`,
 * `channel-close`, `channel-authenticate`, `channel-set-data`, group joins and leaves, timers and
 * `upstream-open` (not log lines, not `channel-get-data`, not the host's answers). The first
 * difference is reported with the event it followed and a diff of the calls around it.
 *
 * Time: the kit's fake clock starts at the recording's start and is moved to each event's `ms`
 * before it is delivered, so the build's own timers fire when the recorded ones did; recorded
 * `timer` events are therefore not delivered again. Upstream channels get the recorded handles, and
 * what the recorded nodes sent comes back as the recorded `msg` events.
 */
import * as z from 'zod';
import { ReplayWorldError, TestInputError, TestMismatchError } from '../errors.js';
import { readTestInput } from '../testkit/read-input.js';
import { diffLines, showFrame } from '../testkit/frame-diff.js';
import type { HostCall } from '../testkit/host-call.js';
import { loadTestPlugin } from '../testkit/plugin-harness.js';
import { CLOSE_REASONS, TRANSPORT_KINDS, WIT_VERSION, worldFor } from '../plugin/world.js';
import { RECORDING_FORMAT, RECORDING_VERSION, type RecordedEvent, type RecordingHeader } from './recording-format.js';

/** Host calls compared: what the plugin did, not what it asked. */
const COMPARED_CALLS = new Set([
  'channel-send',
  'channel-close',
  'channel-authenticate',
  'channel-set-data',
  'group-join',
  'group-leave',
  'group-send',
  'timer-set',
  'timer-cancel',
  'upstream-open',
]);
/** Calls shown on each side of the first difference. */
const CONTEXT_CALLS = 3;

const headerSchema = z.object({
  t: z.literal('header'),
  format: z.literal(RECORDING_FORMAT),
  version: z.literal(RECORDING_VERSION),
  world: z.string(),
  plugin: z.string(),
  sha256: z.string(),
  isolation: z.enum(['inline', 'worker']),
  startMs: z.number(),
  omitPayloads: z.boolean(),
});
const ch = z.int().min(0);
const ms = z.number().min(0);
const lineSchema = z.discriminatedUnion('t', [
  z.object({
    t: z.literal('connect'),
    ms,
    ch,
    peer: z.object({ address: z.string(), port: z.int(), transport: z.enum(TRANSPORT_KINDS), secure: z.boolean(), resumed: z.boolean() }),
  }),
  z.object({ t: z.literal('msg'), ms, ch, data: z.base64().optional(), bytes: z.int().min(0) }),
  z.object({ t: z.literal('broken'), ms, ch, reason: z.enum(CLOSE_REASONS) }),
  z.object({ t: z.literal('timer'), ms, token: z.string() }),
  z.looseObject({ t: z.literal('call'), call: z.string(), payload: z.base64().optional() }),
  z.object({ t: z.literal('truncated'), ms, bytes: z.int() }),
]);

/** A recording, parsed: events and calls in order, each with its line. */
export interface Recording {
  readonly file: string;
  readonly header: RecordingHeader;
  readonly lines: readonly { readonly line: number; readonly value: RecordedEvent | RecordedCallLine }[];
  /** Bytes written before the `truncated` line, when the recording hit `--record-max-bytes`. */
  readonly truncatedAtBytes: number | undefined;
}

type RecordedCallLine = { readonly t: 'call'; readonly call: string } & Record<string, unknown>;

/**
 * Reads and checks a recording.
 * @throws {TestInputError} `PB_ERR_REPLAY_SYNTAX` (file:line) for a file that cannot be read or parsed,
 *   or that was recorded with `--record-omit-payloads`.
 */
export async function readRecording(file: string): Promise<Recording> {
  return parseRecording(file, await readTestInput(file, 'PB_ERR_REPLAY_SYNTAX', 'the recording'));
}

/**
 * Parses recording text (`file` names it in messages).
 * @throws {TestInputError} `PB_ERR_REPLAY_SYNTAX` with the line of the first problem.
 */
export function parseRecording(file: string, text: string): Recording {
  const fail = (line: number, message: string): never => {
    throw new TestInputError('PB_ERR_REPLAY_SYNTAX', file, line, message);
  };
  const rows = text.split('\n');
  if (rows.at(-1) === '') rows.pop();
  if (rows.length === 0) fail(1, 'is empty: a recording starts with its header line (broker serve --record)');
  let header: RecordingHeader | undefined;
  const lines: { line: number; value: RecordedEvent | RecordedCallLine }[] = [];
  let truncatedAtBytes: number | undefined;
  for (let i = 0; i < rows.length; i++) {
    const line = i + 1;
    let value: unknown;
    try {
      value = JSON.parse(rows[i]);
    } catch (err) {
      fail(line, `not JSON (${(err as Error).message})`);
    }
    if (i === 0) {
      const h = headerSchema.safeParse(value);
      if (!h.success) {
        const issue = h.error.issues[0];
        fail(
          line,
          `not a plugbroker recording header (${issue.path.join('.') || 'line'}: ${issue.message}); this broker reads ${RECORDING_FORMAT} version ${RECORDING_VERSION}`,
        );
      }
      header = h.data as RecordingHeader;
      if (header.omitPayloads) fail(line, 'was recorded with --record-omit-payloads: it has no payloads to replay');
      continue;
    }
    if (truncatedAtBytes !== undefined) fail(line, 'a line after the truncated line');
    const parsed = lineSchema.safeParse(value);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      fail(line, `${issue.path.length === 0 ? '' : `${issue.path.join('.')}: `}${issue.message}`);
    }
    const v = parsed.data!;
    if (v.t === 'truncated') truncatedAtBytes = v.bytes;
    else if (v.t === 'msg' && v.data === undefined) fail(line, 'a msg without data (recorded with --record-omit-payloads?)');
    else lines.push({ line, value: v as RecordedEvent | RecordedCallLine });
  }
  return { file, header: header!, lines, truncatedAtBytes };
}

/** Options of `replayRecording`. */
export interface ReplayOpts {
  /** The plugin's `start(config)` text (the recording does not hold it: it may be a secret). */
  readonly config?: string;
}

/** What a replay that found no difference did. */
export interface ReplayResult {
  readonly events: number;
  readonly comparedCalls: number;
  readonly truncatedAtBytes: number | undefined;
}

/** A compared call as one readable line. */
function showCall(c: Record<string, unknown>): string {
  const payload =
    typeof c.payload === 'string' ? ` ${showFrame(Buffer.from(c.payload, 'base64'))}` : c.payload instanceof Uint8Array ? ` ${showFrame(c.payload)}` : '';
  switch (c.call) {
    case 'channel-send':
    case 'channel-set-data':
      return `${c.call} ch ${String(c.channel)}${payload}`;
    case 'channel-close':
    case 'channel-authenticate':
      return `${c.call} ch ${String(c.channel)}`;
    case 'group-join':
    case 'group-leave':
      return `${c.call} ${JSON.stringify(c.group)} ch ${String(c.channel)}`;
    case 'group-send':
      return `group-send ${JSON.stringify(c.group)}${payload}${c.except ? ` except ch ${String(c.except)}` : ''}`;
    case 'timer-set':
      return `timer-set ${String(c.token)} ${String(c.delayMs)} ms${c.repeat ? ' repeat' : ''}`;
    case 'timer-cancel':
      return `timer-cancel ${String(c.token)}`;
    case 'upstream-open':
      return `upstream-open ${JSON.stringify(c.service)} key ${JSON.stringify(c.key)}`;
    default:
      return String(c.call);
  }
}

function showEvent(e: RecordedEvent): string {
  switch (e.t) {
    case 'connect':
      return `connect ch ${e.ch} (${e.peer.address}:${e.peer.port} ${e.peer.transport}${e.peer.resumed ? ', resumed' : ''})`;
    case 'msg':
      return `msg on ch ${e.ch} ${showFrame(Buffer.from(e.data ?? '', 'base64'))}`;
    case 'broken':
      return `broken ch ${e.ch} (${e.reason})`;
    case 'timer':
      return `timer ${e.token}`;
  }
}

/**
 * Replays `rec` against the plugin at `pluginPath` on the test kit.
 * @throws {ReplayWorldError} when the plugin is of another world than the recorded one (exit 2).
 * @throws {TestMismatchError} `PB_ERR_REPLAY_DIVERGED` at the first difference in what it sent (exit 1).
 * @throws the loader's errors for a plugin that does not load or start.
 */
export async function replayRecording(rec: Recording, pluginPath: string, opts: ReplayOpts = {}): Promise<ReplayResult> {
  const recordedCalls = rec.lines.filter((l) => l.value.t === 'call');
  const upstreamOpens = recordedCalls
    .map((l) => l.value as RecordedCallLine)
    .filter((c) => c.call === 'upstream-open' && typeof c.result === 'number' && c.result !== 0);
  const services = [...new Set(upstreamOpens.map((c) => String(c.service)))];
  const kit = await loadTestPlugin(pluginPath, {
    config: opts.config,
    startMs: rec.header.startMs,
    upstreams: Object.fromEntries(services.map((s) => [s, {}])),
  });
  try {
    const world = `plugbroker:plugin/${worldFor(kit.spec.stateful, kit.spec.timed)}@${WIT_VERSION}`;
    if (world !== rec.header.world) throw new ReplayWorldError(rec.file, rec.header.world, world);
    kit.presetUpstreamHandles(upstreamOpens.map((c) => c.result as number));

    // The recorded side: compared calls, each with the event line it followed.
    const expected: { call: Record<string, unknown>; after: number }[] = [];
    let lastEventIndex = -1;
    rec.lines.forEach((l, i) => {
      if (l.value.t !== 'call') lastEventIndex = i;
      else if (COMPARED_CALLS.has(l.value.call)) expected.push({ call: l.value, after: lastEventIndex });
    });
    const actual: { call: HostCall; after: number }[] = [];
    let seen = 0;
    let nowMs = 0;
    let events = 0;
    const collect = (eventIndex: number): void => {
      for (; seen < kit.calls.length; seen++) if (COMPARED_CALLS.has(kit.calls[seen].call)) actual.push({ call: kit.calls[seen], after: eventIndex });
    };
    const compare = (): void => {
      const n = Math.min(expected.length, actual.length);
      for (let k = 0; k < n; k++) if (showCall(expected[k].call) !== showCall(actual[k].call as unknown as Record<string, unknown>)) return diverged(k);
    };
    const diverged = (k: number): never => {
      const from = Math.max(0, k - CONTEXT_CALLS);
      const e = expected.slice(from, k + CONTEXT_CALLS + 1).map((x) => showCall(x.call));
      const a = actual.slice(from, k + CONTEXT_CALLS + 1).map((x) => showCall(x.call as unknown as Record<string, unknown>));
      const at = k < actual.length ? actual[k].after : expected[k].after;
      const ev = at >= 0 ? rec.lines[at] : undefined;
      const what = ev === undefined ? 'at start' : `after ${showEvent(ev.value as RecordedEvent)}`;
      const diff = diffLines(e, a).replace('- expected (the script)', '- the recorded plugin').replace('+ actual (the plugin)', '+ this build');
      throw new TestMismatchError('PB_ERR_REPLAY_DIVERGED', rec.file, ev?.line, `host call ${k + 1} differs, ${what}`, diff);
    };

    collect(-1); // calls of start()
    for (let i = 0; i < rec.lines.length; i++) {
      const { value } = rec.lines[i];
      if (value.t === 'call') continue;
      events++;
      if (value.ms > nowMs) {
        kit.advance(value.ms - nowMs);
        nowMs = value.ms;
        collect(i);
      }
      const chan = value.t === 'timer' ? undefined : kit.channel(value.ch);
      switch (value.t) {
        case 'connect':
          if (chan === undefined)
            kit.connect({ channel: value.ch, address: value.peer.address, port: value.peer.port, transport: value.peer.transport, secure: value.peer.secure });
          break;
        case 'msg':
          if (chan !== undefined && chan.state === 'open') kit.send(value.ch, Buffer.from(value.data ?? '', 'base64'));
          break;
        case 'broken':
          if (chan !== undefined && chan.state === 'open') kit.close(value.ch, value.reason);
          break;
        case 'timer':
          break; // the build's own timers fire on the fake clock
      }
      collect(i);
      compare();
    }
    // A truncated recording may end in the middle of an event's calls: only what it holds must match.
    if (expected.length > actual.length || (expected.length < actual.length && rec.truncatedAtBytes === undefined))
      diverged(Math.min(expected.length, actual.length));
    return { events, comparedCalls: expected.length, truncatedAtBytes: rec.truncatedAtBytes };
  } finally {
    await kit.stop().catch(() => {});
  }
}
