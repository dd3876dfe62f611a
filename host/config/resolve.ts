/**
 * `resolveOptions`: validates every option once, before any socket exists (after nats.js
 * core/src/options.ts), fills the defaults and returns a frozen `ResolvedOptions`. The CLI, the
 * environment and the config file all end here (`resolveLayers`), so there is one set of rules and
 * one way of naming a bad value: as the user wrote it (see `OptionSource`).
 */
import * as z from 'zod';
import { isLoopbackHost } from '../admin/auth.js';
import { BrokerError, InvalidOptionError, OptionErrors, UnknownOptionError } from '../errors.js';
import { DEFAULTS, OPTION_BY_KEY, OPTION_DEFS, type BrokerOptions, type OptionDef, type OptionKey, type ResolvedOptions } from './schema.js';
import { closestName } from './suggest.js';
import { defaultNodeId } from '../cluster/cluster-options.js';
import { isClusterToken } from '../cluster/subjects.js';
import { isSecureScheme, isWebSocketScheme } from '../transport/listen-url.js';
import { tryLoadTlsCredentials, type TlsCredentialsProblem } from '../transport/tls-credentials.js';

/** A path inside an option's value: `['logic', 'nodes', 1]`. */
export type ValuePath = readonly (string | number)[];

/**
 * Where an option's value came from, which decides how messages name it:
 * `--max-frame-bytes` (flag), `PLUGBROKER_MAX_FRAME_BYTES` (env),
 * `broker.yaml:12 max-frame-bytes:` (file), `'maxFrameBytes' (--max-frame-bytes)` (library).
 */
export type OptionSource =
  | { readonly kind: 'library' }
  | { readonly kind: 'flag' }
  | { readonly kind: 'env' }
  | { readonly kind: 'file'; readonly file: string; readonly lineOf: (path: readonly (string | number)[]) => number | undefined }
  | { readonly kind: 'default' };

/** The source of each given option (absent: library). */
export type OptionSources = Partial<Record<OptionKey, OptionSource>>;

const LIBRARY: OptionSource = Object.freeze({ kind: 'library' });
const DEFAULT: OptionSource = Object.freeze({ kind: 'default' });

/** Resolved objects, so that `createBroker(resolveOptions(x))` does not validate twice. */
const resolved = new WeakSet<object>();

/**
 * Spreads the defaults under `opts`, checks every field and the rules between fields, and returns
 * a frozen copy. A field set to `undefined` counts as absent. Messages name a field as
 * `'maxFrameBytes' (--max-frame-bytes)`; `sources` (used by the CLI) changes that to the flag, the
 * variable or the file line the value came from.
 * @throws {InvalidOptionError} for the first value out of its domain (`option` is the field name).
 * @throws {UnknownOptionError} for a field that is no option.
 */
export function resolveOptions(opts: BrokerOptions | ResolvedOptions, sources: OptionSources = {}): ResolvedOptions {
  if (resolved.has(opts)) return opts as unknown as ResolvedOptions;
  const result = validateOptions(opts as Readonly<Record<string, unknown>>, sources);
  if (result.errors.length > 0) throw result.errors[0];
  return result.options!;
}

/**
 * Like `resolveOptions`, but collects every error instead of throwing the first (the CLI prints
 * them all, one line each). Rules between fields are checked only when every field is valid.
 */
export function validateOptions(
  opts: Readonly<Record<string, unknown>>,
  sources: OptionSources = {},
): { options: ResolvedOptions | undefined; errors: BrokerError[] } {
  const errors: BrokerError[] = [];
  const given: Partial<Record<OptionKey, unknown>> = {};
  for (const [key, value] of Object.entries(opts)) {
    if (value === undefined || key === 'logger') continue;
    if (!OPTION_BY_KEY.has(key as OptionKey)) {
      const near = closestName(key, [...OPTION_BY_KEY.keys()]);
      errors.push(new UnknownOptionError(key, `'${key}' is not an option`, near === undefined ? undefined : `'${near}'`));
      continue;
    }
    given[key as OptionKey] = value;
  }
  const out: Record<string, unknown> = { ...DEFAULTS, logger: opts.logger };
  for (const def of OPTION_DEFS) {
    const source = sources[def.key] ?? LIBRARY;
    if (!(def.key in given)) {
      if (def.meta.required) errors.push(invalid(def, undefined, [], source, def.meta.expected ?? describeSchema(def.schema)));
      continue;
    }
    const parsed = def.schema.safeParse(given[def.key]);
    if (parsed.success) out[def.key] = parsed.data;
    else errors.push(...issueErrors(def, given[def.key], parsed.error, source));
  }
  if (errors.length > 0) return { options: undefined, errors };

  const o = out as Record<OptionKey, unknown> & ResolvedOptions;
  // The outbound queue must hold at least one full frame: a raised frame limit raises its default.
  if (!('maxOutboundBytes' in given)) (o as { maxOutboundBytes: number }).maxOutboundBytes = Math.max(DEFAULTS.maxOutboundBytes, 2 * o.maxFrameBytes);
  if (o.pluginCallFuel === undefined) delete (o as { pluginCallFuel?: number }).pluginCallFuel;
  if (o.processes === undefined) delete (o as { processes?: number }).processes;
  // The node id's default depends on the process (host name and pid): each process of --processes has its own.
  if (o.nodeId === undefined) (o as { nodeId: string }).nodeId = defaultNodeId();
  // No listen: one tcp:// listener from host and port (issue #10).
  if (!('listen' in given)) (o as { listen: unknown }).listen = [Object.freeze({ scheme: 'tcp', host: o.host, port: o.port, path: '', framing: 'decimal' })];
  // A default is named the way the rest of the configuration was given: flags on the CLI, field names in the library.
  const fromCli = Object.keys(sources).length > 0;
  const ref = (key: OptionKey): string => refer(OPTION_BY_KEY.get(key)!, sources[key] ?? (key in given || !fromCli ? LIBRARY : DEFAULT));
  for (const rule of CROSS_RULES) {
    const problem = rule.check(o, ref, (key) => key in given);
    if (problem === undefined) continue;
    const def = OPTION_BY_KEY.get(rule.key)!;
    errors.push(invalid(def, o[rule.key], [], sources[rule.key] ?? LIBRARY, problem));
  }
  if (errors.length > 0) return { options: undefined, errors };
  const frozen = Object.freeze(o);
  resolved.add(frozen);
  return { options: frozen, errors };
}

/** Throws the errors of `validateOptions` as one `OptionErrors` (or the only one). */
export function throwAll(errors: readonly BrokerError[]): never {
  throw errors.length === 1 ? errors[0] : new OptionErrors(errors);
}

/**
 * A rule between options: returns what `key` must be (the message after "must be") when broken.
 * `ref` names another option the way its own source spells it.
 */
interface CrossRule {
  readonly key: OptionKey;
  check(o: ResolvedOptions, ref: (key: OptionKey) => string, given: (key: OptionKey) => boolean): string | undefined;
}

/** Every rule between options. */
const CROSS_RULES: readonly CrossRule[] = [
  {
    // Inline mode cannot stop a call that never returns (README, Isolation): a budget there would be a promise not kept.
    key: 'pluginCallBudgetMs',
    check: (o, ref, given) =>
      given('pluginCallBudgetMs') && o.isolation !== 'worker'
        ? `set only with ${ref('isolation')} worker (inline mode cannot preempt a plugin call)`
        : undefined,
  },
  {
    key: 'idleTimeoutMs',
    check: (o, ref) =>
      o.pingIntervalMs > 0 && o.idleTimeoutMs > 0 && o.idleTimeoutMs <= o.pingIntervalMs
        ? `above ${ref('pingIntervalMs')} (${o.pingIntervalMs}) so that a ping can be answered before the timeout, or 0`
        : undefined,
  },
  {
    // #12: the processes of one machine share groups through the cluster.
    key: 'processes',
    check: (o, ref) =>
      o.processes !== undefined && o.cluster.length === 0 ? `used together with ${ref('cluster')} (the processes share groups through the cluster)` : undefined,
  },
  {
    // #12: a NATS service is a queue group reached through the cluster; its name is a subject token.
    key: 'upstream',
    check: (o, ref) => {
      for (const [name, svc] of Object.entries(o.upstream)) {
        if (svc.transport !== 'nats') continue;
        if (!isClusterToken(name)) return `a NATS service name of 1 to 64 characters of A-Z a-z 0-9 _ - (not ${JSON.stringify(name)})`;
        if (o.cluster.length === 0) return `a NATS service (${name}=nats) only together with ${ref('cluster')}`;
      }
      return undefined;
    },
  },
  {
    key: 'maxOutboundBytes',
    check: (o, ref) => (o.maxOutboundBytes < o.maxFrameBytes ? `at least ${ref('maxFrameBytes')} (${o.maxFrameBytes}) so that one full frame fits` : undefined),
  },
  // --- listeners (issue #10) ---
  ...(['host', 'port'] as const).map((key): CrossRule => ({
    key,
    check: (_o, ref, given) => (given(key) && given('listen') ? `absent when ${ref('listen')} is given (put the address in a tcp:// URL)` : undefined),
  })),
  {
    key: 'listen',
    check: (o) => {
      const seen = new Set<string>();
      for (const l of o.listen) {
        const at = `${l.host}:${l.port}`;
        if (l.port !== 0 && seen.has(at)) return `listeners on different ports (${at} is given twice)`;
        seen.add(at);
      }
      return undefined;
    },
  },
  ...(['tlsCert', 'tlsKey'] as const).map((key): CrossRule => ({
    key,
    check: (o, ref, given) => {
      const secure = o.listen.some((l) => isSecureScheme(l.scheme));
      if (!secure) return given(key) ? `absent unless a tls:// or wss:// ${ref('listen')} is given` : undefined;
      // Both missing: one line, on tlsCert.
      if (!given(key))
        return key === 'tlsCert' || given('tlsCert')
          ? `set (a PEM file) for the tls:// and wss:// listeners, with ${ref(key === 'tlsCert' ? 'tlsKey' : 'tlsCert')}`
          : undefined;
      if (!given('tlsCert') || !given('tlsKey')) return undefined; // the other one's rule says so
      const problem = tlsProblem(o.tlsCert!, o.tlsKey!);
      return problem?.option === key ? problem.problem : undefined;
    },
  })),
  {
    key: 'wsCompression',
    check: (o, ref) =>
      o.wsCompression && !o.listen.some((l) => isWebSocketScheme(l.scheme)) ? `absent unless a ws:// or wss:// ${ref('listen')} is given` : undefined,
  },
  {
    key: 'wsAllowedOrigins',
    check: (o, ref) =>
      o.wsAllowedOrigins.length > 0 && !o.listen.some((l) => isWebSocketScheme(l.scheme))
        ? `absent unless a ws:// or wss:// ${ref('listen')} is given`
        : undefined,
  },
  // The admin listener (#11): the admin API can close connections and reload the plugin.
  {
    key: 'adminListen',
    check: (o, ref) =>
      o.adminListen !== undefined && !isLoopbackHost(o.adminListen.host) && o.adminToken === undefined && o.adminTokenFile === undefined
        ? `a loopback address (127.0.0.1, ::1) unless ${ref('adminToken')} or ${ref('adminTokenFile')} is set: the admin API can close connections and reload the plugin`
        : undefined,
  },
  {
    key: 'adminTokenFile',
    check: (o, ref) =>
      o.adminToken !== undefined && o.adminTokenFile !== undefined ? `absent when ${ref('adminToken')} is given (one or the other)` : undefined,
  },
  {
    key: 'adminToken',
    check: (o, ref) => (o.adminToken !== undefined && o.adminListen === undefined ? `set only with ${ref('adminListen')}` : undefined),
  },
  {
    key: 'adminTokenFile',
    check: (o, ref) => (o.adminTokenFile !== undefined && o.adminListen === undefined ? `set only with ${ref('adminListen')}` : undefined),
  },
];

/** The certificate check of the last pair of paths (both rules ask; the files are read once). */
let lastTls: { cert: string; key: string; problem: TlsCredentialsProblem | undefined } | undefined;
function tlsProblem(cert: string, key: string): TlsCredentialsProblem | undefined {
  if (lastTls?.cert !== cert || lastTls.key !== key) {
    const r = tryLoadTlsCredentials(cert, key);
    lastTls = { cert, key, problem: 'problem' in r ? r : undefined };
  }
  return lastTls.problem;
}

/** Errors for every issue zod found in one option's value. */
function issueErrors(def: OptionDef, value: unknown, error: z.ZodError, source: OptionSource): BrokerError[] {
  const out: BrokerError[] = [];
  const seen = new Set<string>();
  for (const issue of flattenUnions(error.issues, [])) {
    const path = issue.path.filter((p): p is string | number => typeof p !== 'symbol');
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) {
        const at = [...path, key];
        const where = subject(def, source, at);
        const near = closestName(key, knownKeysAt(def, path));
        out.push(new UnknownOptionError(key, `${where} is not a key here`, near));
      }
      continue;
    }
    const id = JSON.stringify(path);
    if (seen.has(id)) continue; // one line per place, even when a union reports every branch
    seen.add(id);
    // Leaf schemas with a message of their own say "must be …"; zod's generic ones are replaced by the option's domain.
    const expected = issue.message.startsWith('must be ') ? issue.message.slice('must be '.length) : undefined;
    out.push(invalid(def, valueAt(value, path), path, source, expected ?? def.meta.expected ?? describeSchema(def.schema)));
  }
  return out;
}

/**
 * A union that failed reports every branch's issues; keep those of the branch the value's type
 * chose (the one without a type mismatch at the union's own place), so that the message points at
 * the bad part (`nodes[1]`) instead of the whole value.
 */
function flattenUnions(issues: readonly z.core.$ZodIssue[], prefix: readonly PropertyKey[]): z.core.$ZodIssue[] {
  const out: z.core.$ZodIssue[] = [];
  for (const issue of issues) {
    const path = [...prefix, ...issue.path];
    if (issue.code !== 'invalid_union' || issue.errors.length === 0) {
      out.push({ ...issue, path });
      continue;
    }
    const matching = issue.errors.filter((branch) => !branch.some((i) => i.code === 'invalid_type' && i.path.length === 0));
    if (matching.length === 1) out.push(...flattenUnions(matching[0], path));
    else out.push({ ...issue, path });
  }
  return out;
}

function invalid(def: OptionDef, value: unknown, path: ValuePath, source: OptionSource, expected: string): InvalidOptionError {
  // A secret is never echoed, not even when it is wrong (#11: the admin token).
  const shown = def.meta.secret === true && typeof value === 'string' ? '(secret)' : value;
  return new InvalidOptionError(def.key, shown, expected, { subject: subject(def, source, path), path });
}

/** How a message names option `def` (and a place inside its value) given where the value came from. */
export function subject(def: OptionDef, source: OptionSource, path: ValuePath = []): string {
  switch (source.kind) {
    case 'flag':
      return path.length > 0 && def.meta.repeat === 'map' ? `${def.flag} ${path[0]}` : def.flag;
    case 'env':
      return path.length > 0 && def.meta.repeat === 'map' ? `${def.envVar} ${path[0]}` : def.envVar;
    case 'file': {
      const line = source.lineOf([def.fileKey, ...path]);
      return `${source.file}${line === undefined ? '' : `:${line}`} ${def.fileKey}${renderPath(path)}:`;
    }
    case 'library':
    case 'default':
      return `'${def.key}${renderPath(path)}' (${def.flag})`;
  }
}

/** How a cross-rule message names another option: as its own source spells it. */
function refer(def: OptionDef, source: OptionSource): string {
  switch (source.kind) {
    case 'flag':
    case 'default':
      return def.flag;
    case 'env':
      return def.envVar;
    case 'file':
      return def.fileKey;
    case 'library':
      return `'${def.key}'`;
  }
}

/** `.logic.nodes[1]` */
export function renderPath(path: ValuePath): string {
  return path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${p}`)).join('');
}

function valueAt(value: unknown, path: ValuePath): unknown {
  let v = value;
  for (const p of path) {
    if (v === null || typeof v !== 'object') return undefined;
    v = (v as Record<string | number, unknown>)[p];
  }
  return v;
}

/** Keys a strict object inside an option accepts (for "did you mean"). */
function knownKeysAt(def: OptionDef, path: ValuePath): string[] {
  const json = jsonSchemaOf(def.schema) as JsonSchema;
  const found: string[] = [];
  const visit = (node: JsonSchema | undefined, depth: number): void => {
    if (node === undefined) return;
    for (const alt of node.anyOf ?? []) visit(alt, depth);
    if (depth === path.length) {
      found.push(...Object.keys(node.properties ?? {}));
      return;
    }
    const p = path[depth];
    if (typeof p === 'number') visit(node.items, depth + 1);
    else visit(node.properties?.[p] ?? (typeof node.additionalProperties === 'object' ? node.additionalProperties : undefined), depth + 1);
  };
  visit(json, 0);
  return found;
}

interface JsonSchema {
  type?: string;
  enum?: unknown[];
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  minLength?: number;
  items?: JsonSchema;
  anyOf?: JsonSchema[];
  properties?: Record<string, JsonSchema>;
  additionalProperties?: JsonSchema | boolean;
}

const jsonCache = new WeakMap<z.ZodType, unknown>();

/** The JSON Schema of an option's value (the input side: what a user writes). */
export function jsonSchemaOf(schema: z.ZodType): unknown {
  let json = jsonCache.get(schema);
  if (json === undefined) {
    json = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' });
    jsonCache.set(schema, json);
  }
  return json;
}

/** "an integer from 0 to 65535", "one of close, drop", …: what a value of `schema` must be. */
export function describeSchema(schema: z.ZodType): string {
  return describeJson(jsonSchemaOf(schema) as JsonSchema);
}

function describeJson(s: JsonSchema): string {
  if (s.enum !== undefined) return `one of ${s.enum.join(', ')}`;
  if (s.anyOf !== undefined) return s.anyOf.map(describeJson).join(', or ');
  switch (s.type) {
    case 'integer': {
      const min = s.minimum ?? Number.MIN_SAFE_INTEGER;
      const max = s.maximum ?? Number.MAX_SAFE_INTEGER;
      if (max >= Number.MAX_SAFE_INTEGER) return min === 0 ? 'a non-negative integer' : min === 1 ? 'a positive integer' : `an integer of at least ${min}`;
      return `an integer from ${min} to ${max}`;
    }
    case 'number': {
      const low = s.exclusiveMinimum !== undefined ? `above ${s.exclusiveMinimum}` : s.minimum !== undefined ? `at least ${s.minimum}` : undefined;
      const high = s.maximum !== undefined ? `at most ${s.maximum}` : undefined;
      return ['a number', [low, high].filter(Boolean).join(' and ')].filter(Boolean).join(' ');
    }
    case 'string':
      return (s.minLength ?? 0) > 0 ? 'a non-empty string' : 'a string';
    case 'boolean':
      return 'true or false';
    case 'array':
      return s.items === undefined ? 'a list' : `a list of ${describeJson(s.items)}`;
    default:
      return 'a valid value';
  }
}
