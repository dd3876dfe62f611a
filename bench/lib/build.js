// Compiles the bench's C programs into bench/bin/ when a binary is missing or older than its source.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, statSync } from 'node:fs';
import path from 'node:path';

const CFLAGS = ['-O2', '-Wall', '-Wextra', '-Werror'];

/**
 * @param {string} benchDir the bench/ directory
 * @param {string[]} programs base names of `<name>.c` sources
 * @returns {Record<string, string>} program name → binary path
 * @throws if gcc is missing or a source does not compile
 */
export function buildCPrograms(benchDir, programs) {
  const binDir = path.join(benchDir, 'bin');
  mkdirSync(binDir, { recursive: true });
  const binaries = {};
  for (const name of programs) {
    const source = path.join(benchDir, `${name}.c`);
    const binary = path.join(binDir, name);
    if (!existsSync(binary) || statSync(binary).mtimeMs < statSync(source).mtimeMs) {
      process.stdout.write(`compiling ${path.relative(process.cwd(), source)}\n`);
      // loadgen speaks TLS through OpenSSL (Debian: libssl-dev).
      execFileSync('gcc', [...CFLAGS, '-o', binary, source, '-lm', ...(name === 'loadgen' ? ['-lssl', '-lcrypto'] : [])], { stdio: 'inherit' });
    }
    binaries[name] = binary;
  }
  return binaries;
}
