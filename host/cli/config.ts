/**
 * `broker config schema` prints the config file's JSON Schema; `broker config check <file>`
 * validates a config file the way `broker serve --config <file>` would (with the `PLUGBROKER_*`
 * environment) and prints the resolved options with secrets masked, each with where its value
 * came from (exit 0), or every error, one line each (exit 2).
 */
import { Document, isPair, isScalar, type Scalar } from 'yaml';
import { OPTION_DEFS, type ResolvedOptions } from '../config.js';
import { configJsonSchema } from '../config/json-schema.js';
import { loadConfig } from '../config/load.js';
import { throwAll, type OptionSource } from '../config/resolve.js';
import type { UpstreamService } from '../routing/upstreams.js';

/** Where the commands write. */
export interface ConfigIo {
  readonly print: (text: string) => void;
  readonly env?: NodeJS.ProcessEnv;
}

/** `broker config schema`: the JSON Schema, pretty-printed. */
export function configSchema(io: ConfigIo): void {
  io.print(JSON.stringify(configJsonSchema(), null, 2) + '\n');
}

/**
 * `broker config check <file>`: prints the resolved configuration as YAML.
 * @throws {OptionErrors | InvalidOptionError | UnknownOptionError | ConfigFileError | UsageError} for a bad file.
 */
export async function configCheck(file: string, io: ConfigIo): Promise<void> {
  const loaded = await loadConfig({ configFile: file, env: io.env ?? process.env });
  if (loaded.errors.length > 0) throwAll(loaded.errors);
  io.print(`# ${file} is valid. The options broker serve --config ${file} runs with (flags given to serve override them):\n`);
  io.print(renderResolved(loaded.options!, loaded.sources));
}

/** What `config check` prints for a secret. */
export function maskSecret(value: unknown): string {
  return typeof value === 'string' && value.length === 0 ? '' : `<secret: ${Buffer.byteLength(String(value))} bytes>`;
}

/** The resolved options as YAML with file keys, secrets masked, a comment naming each value's source. */
export function renderResolved(options: ResolvedOptions, sources: Readonly<Partial<Record<string, OptionSource>>>): string {
  const values: Record<string, unknown> = {};
  for (const def of OPTION_DEFS) {
    const value = (options as Record<string, unknown>)[def.key];
    if (value === undefined) continue;
    values[def.fileKey] = def.meta.secret ? maskSecret(value) : def.key === 'upstream' ? upstreamAsText(value as Record<string, UpstreamService>) : value;
  }
  const doc = new Document(values);
  for (const item of (doc.contents as { items: unknown[] }).items) {
    if (!isPair(item) || !isScalar(item.key)) continue;
    const def = OPTION_DEFS.find((d) => d.fileKey === (item.key as Scalar).value)!;
    const where = describeSource(sources[def.key], def.fileKey);
    if (isScalar(item.value)) item.value.comment = ` ${where}`;
    else (item.key as Scalar).commentBefore = ` ${where}`;
  }
  return doc.toString({ lineWidth: 0 });
}

function describeSource(source: OptionSource | undefined, fileKey: string): string {
  switch (source?.kind) {
    case undefined:
    case 'default':
      return 'default';
    case 'file': {
      const line = source.lineOf([fileKey]);
      return `${source.file}${line === undefined ? '' : `:${line}`}`;
    }
    case 'env':
      return OPTION_DEFS.find((d) => d.fileKey === fileKey)!.envVar;
    case 'flag':
      return OPTION_DEFS.find((d) => d.fileKey === fileKey)!.flag;
    case 'library':
      return 'given';
  }
}

/** Nodes as `host:port` (`[::1]:7001`) for reading. */
function upstreamAsText(services: Record<string, UpstreamService>): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(services).map(([name, svc]) => [
      name,
      { nodes: svc.nodes.map((n) => (n.host.includes(':') ? `[${n.host}]:${n.port}` : `${n.host}:${n.port}`)), policy: svc.policy },
    ]),
  );
}
