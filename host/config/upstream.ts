/**
 * The `upstream` option: logical service name → nodes and a balancing policy. Three spellings, one
 * result (`UpstreamService`):
 * - the flag's text `--upstream logic=127.0.0.1:7001,[::1]:7002/least-connections` (repeatable);
 * - the same text as a map value (`upstream: { logic: "127.0.0.1:7001/least-connections" }`);
 * - `nats` (#12): the service is the NATS queue group of its name, reached through `--cluster`;
 * - the structured form of the config file and the library
 *   (`upstream: { logic: { nodes: ["127.0.0.1:7001", { host: "::1", port: 7002 }], policy: least-connections } }`).
 */
import * as z from 'zod';
import { MAX_UPSTREAM_KEY_BYTES } from '../limits.js';
import { BALANCE_POLICIES, type BalancePolicy, type UpstreamNode } from '../routing/balancer.js';
import type { UpstreamService } from '../routing/upstreams.js';

/** `host:port`, with the host in brackets for IPv6 (`[::1]:7001`). */
const NODE_TEXT = /^(?:\[([^\]]+)\]|([^:/,\s]+)):(\d+)$/;

/** What the messages say a node must be. */
const NODE_EXPECTED = 'host:port with a port from 1 to 65535';
/** What the messages say the text form must be. */
export const UPSTREAM_TEXT_EXPECTED = `host:port[,host:port…][/policy] (${NODE_EXPECTED}; policy ${BALANCE_POLICIES.join(', ')})`;

/** Parses `host:port`; undefined when it is not one. */
export function parseNodeText(text: string): UpstreamNode | undefined {
  const m = NODE_TEXT.exec(text.trim());
  if (m === null) return undefined;
  const port = Number(m[3]);
  if (!Number.isInteger(port) || port < 1 || port > 65535) return undefined;
  return { host: m[1] ?? m[2], port };
}

/** Parses `host:port,host:port[/policy]`; undefined when it is not that. */
export function parseUpstreamText(text: string): { nodes: UpstreamNode[]; policy: BalancePolicy } | undefined {
  const slash = text.lastIndexOf('/');
  const policy = slash === -1 ? 'round-robin' : text.slice(slash + 1).trim();
  if (!(BALANCE_POLICIES as readonly string[]).includes(policy)) return undefined;
  const parts = (slash === -1 ? text : text.slice(0, slash)).split(',').filter((p) => p.trim() !== '');
  const nodes = parts.map(parseNodeText);
  if (nodes.length === 0 || nodes.some((n) => n === undefined)) return undefined;
  return { nodes: nodes as UpstreamNode[], policy: policy as BalancePolicy };
}

const nodeSchema = z.union([
  z.string().refine((s) => parseNodeText(s) !== undefined, { error: `must be ${NODE_EXPECTED}` }),
  z.strictObject({
    host: z.string({ error: 'must be a host name or IP address' }).min(1, { error: 'must be a host name or IP address' }),
    port: z.number({ error: 'must be a port from 1 to 65535' }).int({ error: 'must be a port from 1 to 65535' }).min(1).max(65535),
  }),
]);

const serviceObjectSchema = z.strictObject({
  /** `host:port` texts or `{ host, port }`; at least one. */
  nodes: z.array(nodeSchema, { error: `must be a list of ${NODE_EXPECTED}` }).min(1, { error: `must be a list of at least one node (${NODE_EXPECTED})` }),
  /** Default `round-robin`. */
  policy: z.enum(BALANCE_POLICIES as [BalancePolicy, ...BalancePolicy[]], { error: `must be one of ${BALANCE_POLICIES.join(', ')}` }).optional(),
});

const serviceTextSchema = z
  .string()
  .refine((s) => s.trim() === 'nats' || parseUpstreamText(s) !== undefined, { error: `must be ${UPSTREAM_TEXT_EXPECTED}, or nats` });

/** One upstream service as the library takes it (`BrokerOptions.upstream`). */
export type UpstreamServiceOptions = z.input<typeof serviceObjectSchema>;

const serviceName = z.string().refine((name) => name.length > 0 && Buffer.byteLength(name) <= MAX_UPSTREAM_KEY_BYTES, {
  error: `must be a service name of 1 to ${MAX_UPSTREAM_KEY_BYTES} bytes`,
});

/** The `upstream` option: validates every spelling and normalises it to `UpstreamService`s. */
export const upstreamSchema = z
  .record(serviceName, z.union([serviceTextSchema, serviceObjectSchema], { error: `must be ${UPSTREAM_TEXT_EXPECTED}, nats, or { nodes: […], policy }` }), {
    error: 'must be a map of service name → nodes',
  })
  .transform((services): Readonly<Record<string, UpstreamService>> => {
    const out: Record<string, UpstreamService> = {};
    for (const [name, svc] of Object.entries(services)) {
      // `nats` (#12): the NATS queue group of the service's name, reached through the cluster.
      if (typeof svc === 'string' && svc.trim() === 'nats') {
        out[name] = Object.freeze({ transport: 'nats', nodes: Object.freeze([]), policy: 'round-robin' });
        continue;
      }
      const spec =
        typeof svc === 'string'
          ? parseUpstreamText(svc)!
          : {
              nodes: svc.nodes.map((n) => (typeof n === 'string' ? parseNodeText(n)! : { host: n.host, port: n.port })),
              policy: svc.policy ?? 'round-robin',
            };
      out[name] = Object.freeze({ nodes: Object.freeze(spec.nodes.map((n) => Object.freeze(n))), policy: spec.policy });
    }
    return Object.freeze(out);
  });

/**
 * Parses one `--upstream name=host:port,…[/policy]` flag into the map it adds to (the text is
 * checked with the other options; only the `name=` shape is checked here).
 * @returns undefined when the text has no `name=`.
 */
export function splitUpstreamFlag(text: string): [string, string] | undefined {
  const eq = text.indexOf('=');
  if (eq <= 0) return undefined;
  return [text.slice(0, eq), text.slice(eq + 1)];
}
