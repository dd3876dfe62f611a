/**
 * AssemblyScript → core wasm module, through the `asc` JS API (no child process).
 */
import { join } from 'node:path';
import { BuildError } from '../errors.js';

/**
 * Compiles the plugin in `dir` (its `asconfig.json`, target `release`) to a core module.
 * The plugin's asconfig must leave no `env.*` import (`"use": ["abort="]`, see the SDK README).
 * @throws {BuildError} with asc's diagnostics when compilation fails.
 */
export async function compileAssemblyScript(dir: string): Promise<Uint8Array> {
  const { default: asc } = await import('assemblyscript/asc');
  let binary: Uint8Array | undefined;
  let diagnostics = '';
  const result = await asc.main(['--config', join(dir, 'asconfig.json'), '--target', 'release', '--outFile', 'plugin.core.wasm'], {
    writeFile(name: string, contents: Uint8Array | string) {
      if (name.endsWith('.wasm') && typeof contents !== 'string') binary = contents;
    },
    stdout: { write: (s: string) => ((diagnostics += s), true) } as never,
    stderr: { write: (s: string) => ((diagnostics += s), true) } as never,
  });
  if (result.error !== null || binary === undefined) {
    throw new BuildError('asc', `${result.error?.message ?? 'no output'}\n${diagnostics}`.trim(), { cause: result.error });
  }
  return binary;
}
