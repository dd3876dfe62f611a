/**
 * The session script of `broker test --plugin <x.wasm> <session.yaml>` (docs/testkit.md, "Session
 * scripts"): YAML (or JSON), a map with the kit's options and a list of `steps`, each a map whose
 * first key names the action (`connect: alice`, `send: alice`, `expect: alice`, …). The schema is
 * zod, the JSON Schema (`broker test schema`) is generated from it, and every problem names the file
 * and line (`session.yaml:12: steps[3].frames: …`), as host/config/file.ts does for config files.
 */
import { LineCounter, parseDocument } from 'yaml';
import * as z from 'zod';
import { lineOf } from '../config/file.js';
import { FAILURE_POLICIES } from '../config/schema.js';
import { closestName } from '../config/suggest.js';
import { TestInputError } from '../errors.js';
import { readTestInput } from './read-input.js';
import { CLOSE_REASONS, PLUGIN_LOG_LEVELS, TRANSPORT_KINDS } from '../plugin/world.js';

/** A frame: UTF-8 text, or bytes as `{ base64 }` or `{ hex }`. */
const frameSchema = z
  .union([z.string(), z.strictObject({ base64: z.base64() }), z.strictObject({ hex: z.string().regex(/^([0-9a-fA-F]{2})*$/, 'must be pairs of hex digits') })])
  .meta({ description: 'a frame: UTF-8 text, or bytes as { base64: … } or { hex: … }' });
const framesSchema = z.array(frameSchema);
const name = z.string().min(1).max(64);
const channelName = name.meta({ description: 'the name the script gives a client channel (connect: <name>)' });
const closeReason = z.enum(CLOSE_REASONS);

/** Every step, by its action key; the first key of a step map picks its schema. */
export const STEP_SCHEMAS = {
  connect: z
    .strictObject({
      connect: channelName,
      address: z.string().optional().meta({ description: 'peer address handle-connect sees (default 127.0.0.1)' }),
      port: z.int().min(0).max(65535).optional().meta({ description: 'peer port (default 40000, 40001, …)' }),
      transport: z.enum(TRANSPORT_KINDS).optional().meta({ description: 'default tcp' }),
      secure: z.boolean().optional().meta({ description: 'came through tls:// or wss:// (default false)' }),
      refused: z.boolean().optional().meta({ description: 'expect handle-connect to refuse the channel (default false: expect it accepted)' }),
    })
    .meta({ description: 'a client connects: handle-connect with this peer info' }),
  send: z
    .strictObject({ send: channelName, frame: frameSchema.optional(), frames: framesSchema.optional() })
    .refine((s) => (s.frame === undefined) !== (s.frames === undefined), { message: 'give frame or frames (one of them)' })
    .meta({ description: 'the peer sends a frame (or several, in order): handle-msg' }),
  expect: z
    .strictObject({ expect: channelName, frames: framesSchema })
    .meta({ description: 'the frames the plugin sent to this channel since the previous expect of it, exactly ([] for none)' }),
  'expect-group': z
    .strictObject({
      'expect-group': name,
      frames: framesSchema.optional().meta({ description: 'the group-send frames to this group since the previous expect-group of it' }),
      members: z.array(channelName).optional().meta({ description: 'the members now, in joining order' }),
    })
    .meta({ description: 'what the plugin sent to a group, and who is in it' }),
  'expect-upstream': z
    .strictObject({ 'expect-upstream': name, frames: framesSchema })
    .meta({ description: 'the frames the plugin sent to the channels of this upstream service since the previous expect-upstream of it' }),
  advance: z.int().min(0).meta({ description: 'moves the fake clock forward by this many ms, firing due timers (handle-timer)' }),
  close: z
    .strictObject({ close: channelName, reason: closeReason.optional().meta({ description: 'default peer-closed' }) })
    .meta({ description: 'the peer goes away: handle-broken(reason)' }),
  'expect-closed': z
    .strictObject({ 'expect-closed': channelName, reason: closeReason.optional().meta({ description: 'the reason it ended with (any when absent)' }) })
    .meta({ description: 'the channel has ended' }),
  'expect-open': z.strictObject({ 'expect-open': channelName }).meta({ description: 'the channel is still open' }),
  'expect-data': z.strictObject({ 'expect-data': channelName, data: frameSchema }).meta({ description: "the channel's data (channel-set-data); '' for none" }),
  'expect-trap': z
    .strictObject({
      'expect-trap': z.string().meta({ description: 'the export that trapped: handle-msg, handle-connect, …' }),
      channel: channelName.optional(),
    })
    .meta({ description: 'the next unexpected trap happened in this export (and about this channel)' }),
  'expect-log': z
    .strictObject({ 'expect-log': z.string(), level: z.enum(PLUGIN_LOG_LEVELS).optional() })
    .meta({ description: 'the plugin logged this exact message since the previous expect-log' }),
} as const;

export type StepAction = keyof typeof STEP_SCHEMAS;
const ACTIONS = Object.keys(STEP_SCHEMAS) as StepAction[];
/** `advance: 100` is a scalar step; the others are maps. */
const advanceStep = z.strictObject({ advance: STEP_SCHEMAS.advance });

const upstreamSchema = z
  .strictObject({
    reply: z.enum(['echo', 'none']).optional().meta({ description: 'echo: every frame comes back; none (default): no answer except the answers below' }),
    answers: z
      .record(z.string(), z.union([frameSchema, framesSchema]))
      .optional()
      .meta({ description: 'frame text → the frame(s) the node answers with' }),
    down: z.boolean().optional().meta({ description: 'every node ejected: upstream-open returns 0' }),
  })
  .meta({ description: 'a scripted upstream node' });

/** The script without its steps. */
const headerShape = {
  $schema: z.string().optional().meta({ description: 'the JSON Schema of this file (for editors); ignored' }),
  config: z.string().optional().meta({ description: "the plugin's start(config) text (--plugin-config)" }),
  'failure-policy': z.enum(FAILURE_POLICIES).optional().meta({ description: '--on-plugin-failure (default reload)' }),
  'channel-data-max-bytes': z.int().min(0).optional().meta({ description: '--channel-data-max-bytes (default 4096)' }),
  'max-frame-bytes': z.int().min(1).optional().meta({ description: '--max-frame-bytes (default the broker default)' }),
  upstreams: z.record(name, upstreamSchema).optional().meta({ description: 'upstream services the plugin may open, each a scripted node' }),
};

/** The whole script as zod, for the JSON Schema (the parser checks each step against its own schema). */
export function sessionScriptSchema(): z.ZodType {
  const step = z.union([...ACTIONS.filter((a) => a !== 'advance').map((a) => STEP_SCHEMAS[a]), advanceStep]);
  return z.strictObject({ ...headerShape, steps: z.array(step).min(1).meta({ description: 'what happens, in order' }) });
}

/** The JSON Schema (draft 2020-12) `broker test schema` prints. */
export function sessionJsonSchema(): Record<string, unknown> {
  const json = z.toJSONSchema(sessionScriptSchema(), { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;
  return { ...json, title: 'plugbroker session script (broker test --plugin <x.wasm> <session.yaml>)', description: 'docs/testkit.md, "Session scripts".' };
}

/** A frame as the script gives it, decoded. */
export type ScriptFrame = Buffer;

/** One step, parsed, with the line it starts on. */
export type SessionStep = { readonly line: number | undefined; readonly index: number } & (
  | {
      readonly action: 'connect';
      readonly channel: string;
      readonly peer: { address?: string; port?: number; transport?: 'tcp' | 'websocket'; secure?: boolean };
      readonly refused: boolean;
    }
  | { readonly action: 'send'; readonly channel: string; readonly frames: ScriptFrame[] }
  | { readonly action: 'expect'; readonly channel: string; readonly frames: ScriptFrame[] }
  | { readonly action: 'expect-group'; readonly group: string; readonly frames: ScriptFrame[] | undefined; readonly members: string[] | undefined }
  | { readonly action: 'expect-upstream'; readonly service: string; readonly frames: ScriptFrame[] }
  | { readonly action: 'advance'; readonly ms: number }
  | { readonly action: 'close'; readonly channel: string; readonly reason: (typeof CLOSE_REASONS)[number] }
  | { readonly action: 'expect-closed'; readonly channel: string; readonly reason: (typeof CLOSE_REASONS)[number] | undefined }
  | { readonly action: 'expect-open'; readonly channel: string }
  | { readonly action: 'expect-data'; readonly channel: string; readonly data: ScriptFrame }
  | { readonly action: 'expect-trap'; readonly export: string; readonly channel: string | undefined }
  | { readonly action: 'expect-log'; readonly message: string; readonly level: string | undefined }
);

/** A scripted upstream node, parsed. */
export interface ScriptUpstream {
  readonly reply: 'echo' | 'none';
  readonly answers: ReadonlyMap<string, ScriptFrame[]>;
  readonly down: boolean;
}

/** A parsed session script. */
export interface SessionScript {
  readonly file: string;
  readonly config: string | undefined;
  readonly failurePolicy: (typeof FAILURE_POLICIES)[number] | undefined;
  readonly channelDataMaxBytes: number | undefined;
  readonly maxFrameBytes: number | undefined;
  readonly upstreams: ReadonlyMap<string, ScriptUpstream>;
  readonly steps: readonly SessionStep[];
}

/**
 * Reads and parses a session script.
 * @throws {TestInputError} `PB_ERR_TEST_SCRIPT_SYNTAX` (file:line) when it cannot be read or parsed.
 */
export async function readSessionScript(file: string): Promise<SessionScript> {
  return parseSessionScript(file, await readTestInput(file, 'PB_ERR_TEST_SCRIPT_SYNTAX', 'the session script'));
}

/**
 * Parses session script text (`file` names it in messages).
 * @throws {TestInputError} `PB_ERR_TEST_SCRIPT_SYNTAX` with the line of the first problem.
 */
export function parseSessionScript(file: string, text: string): SessionScript {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  const lineAt = (offset: number): number => lines.linePos(offset).line;
  const fail = (path: readonly (string | number)[], message: string): never => {
    throw new TestInputError('PB_ERR_TEST_SCRIPT_SYNTAX', file, lineOf(doc, path, lineAt), `${formatPath(path)}${message}`);
  };
  if (doc.errors.length > 0) {
    const err = doc.errors[0];
    throw new TestInputError('PB_ERR_TEST_SCRIPT_SYNTAX', file, lineAt(err.pos[0]), err.message.split('\n')[0].replace(/ at line \d+, column \d+:?$/, ''));
  }
  const data: unknown = doc.toJS({ maxAliasCount: 100 });
  if (data === null || typeof data !== 'object' || Array.isArray(data)) fail([], 'must be a map with steps: [...] (docs/testkit.md, "Session scripts")');
  const { steps: rawSteps, ...header } = data as Record<string, unknown>;
  const head = z.strictObject(headerShape).safeParse(header);
  if (!head.success) failOn(head.error, [], fail);
  if (!Array.isArray(rawSteps) || rawSteps.length === 0) fail(rawSteps === undefined ? [] : ['steps'], 'steps: must be a list of at least one step');
  const steps = (rawSteps as unknown[]).map((raw, index) =>
    parseStep(raw, index, (path, message) => fail(['steps', index, ...path], message), lineOf(doc, ['steps', index], lineAt)),
  );
  const h = head.data!;
  const upstreams = new Map<string, ScriptUpstream>();
  for (const [service, node] of Object.entries(h.upstreams ?? {})) {
    const answers = new Map<string, ScriptFrame[]>();
    for (const [frame, answer] of Object.entries(node.answers ?? {})) answers.set(frame, (Array.isArray(answer) ? answer : [answer]).map(decodeFrame));
    upstreams.set(service, { reply: node.reply ?? 'none', answers, down: node.down ?? false });
  }
  return {
    file,
    config: h.config,
    failurePolicy: h['failure-policy'],
    channelDataMaxBytes: h['channel-data-max-bytes'],
    maxFrameBytes: h['max-frame-bytes'],
    upstreams,
    steps,
  };
}

type Fail = (path: readonly (string | number)[], message: string) => never;

function parseStep(raw: unknown, index: number, fail: Fail, line: number | undefined): SessionStep {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) fail([], `must be a map whose first key is the action (${ACTIONS.join(', ')})`);
  const keys = Object.keys(raw as object);
  const action = keys.find((k): k is StepAction => (ACTIONS as string[]).includes(k));
  if (action === undefined) {
    const near = keys.length > 0 ? closestName(keys[0], ACTIONS) : undefined;
    fail(
      keys.length > 0 ? [keys[0]] : [],
      `is not a step${near === undefined ? '' : ` (did you mean ${near}?)`}: the first key must be one of ${ACTIONS.join(', ')}`,
    );
  }
  const schema = action === 'advance' ? advanceStep : STEP_SCHEMAS[action!];
  const parsed = (schema as z.ZodType).safeParse(raw);
  if (!parsed.success) failOn(parsed.error, [], fail);
  const s = parsed.data as Record<string, unknown>;
  const at = { line, index };
  switch (action!) {
    case 'connect':
      return {
        ...at,
        action: 'connect',
        channel: s.connect as string,
        peer: {
          address: s.address as string | undefined,
          port: s.port as number | undefined,
          transport: s.transport as 'tcp' | undefined,
          secure: s.secure as boolean | undefined,
        },
        refused: s.refused === true,
      };
    case 'send':
      return { ...at, action: 'send', channel: s.send as string, frames: (s.frames === undefined ? [s.frame] : (s.frames as unknown[])).map(decodeFrame) };
    case 'expect':
      return { ...at, action: 'expect', channel: s.expect as string, frames: (s.frames as unknown[]).map(decodeFrame) };
    case 'expect-group':
      return {
        ...at,
        action: 'expect-group',
        group: s['expect-group'] as string,
        frames: (s.frames as unknown[] | undefined)?.map(decodeFrame),
        members: s.members as string[] | undefined,
      };
    case 'expect-upstream':
      return { ...at, action: 'expect-upstream', service: s['expect-upstream'] as string, frames: (s.frames as unknown[]).map(decodeFrame) };
    case 'advance':
      return { ...at, action: 'advance', ms: s.advance as number };
    case 'close':
      return { ...at, action: 'close', channel: s.close as string, reason: (s.reason as 'peer-closed' | undefined) ?? 'peer-closed' };
    case 'expect-closed':
      return { ...at, action: 'expect-closed', channel: s['expect-closed'] as string, reason: s.reason as 'peer-closed' | undefined };
    case 'expect-open':
      return { ...at, action: 'expect-open', channel: s['expect-open'] as string };
    case 'expect-data':
      return { ...at, action: 'expect-data', channel: s['expect-data'] as string, data: decodeFrame(s.data) };
    case 'expect-trap':
      return { ...at, action: 'expect-trap', export: s['expect-trap'] as string, channel: s.channel as string | undefined };
    case 'expect-log':
      return { ...at, action: 'expect-log', message: s['expect-log'] as string, level: s.level as string | undefined };
  }
  void index;
}

/** The first zod issue → `fail(path, message)`. */
function failOn(error: z.ZodError, base: readonly (string | number)[], fail: Fail): never {
  const issue = error.issues[0];
  const path = [...base, ...issue.path.map((p) => (typeof p === 'symbol' ? String(p) : p))];
  let message = issue.message;
  if (issue.code === 'unrecognized_keys') message = `unknown key${issue.keys.length > 1 ? 's' : ''} ${issue.keys.join(', ')}`;
  if (issue.code === 'invalid_union') message = 'must be text, { base64: … } or { hex: … }';
  return fail(path, message);
}

function formatPath(path: readonly (string | number)[]): string {
  if (path.length === 0) return '';
  let out = '';
  for (const p of path) out += typeof p === 'number' ? `[${p}]` : out === '' ? p : `.${p}`;
  return `${out}: `;
}

/** A script frame → bytes. */
export function decodeFrame(frame: unknown): ScriptFrame {
  if (typeof frame === 'string') return Buffer.from(frame, 'utf8');
  const f = frame as { base64?: string; hex?: string };
  return f.base64 !== undefined ? Buffer.from(f.base64, 'base64') : Buffer.from(f.hex ?? '', 'hex');
}
