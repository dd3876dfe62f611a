/**
 * Finding and running the native compilers `broker build` drives (clang, rustc). Executables are
 * looked up on `PATH` at call time; a missing one is a `ToolchainMissingError` naming the Debian
 * package that provides it, never a stack trace.
 */
import { execFile } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';
import { BuildError } from '../errors.js';

/** A step's timer, as `broker build` prints it: runs `fn` and prints `name` with its time. */
export type StepRunner = <T>(name: string, fn: () => Promise<T>) => Promise<T>;

/** What a native toolchain function needs from `broker build`. */
export interface CompileOpts {
  /** Times and prints one step. */
  step: StepRunner;
  /** Prints compiler warnings (text as the compiler wrote it). */
  warn: (text: string) => void;
}

/** Every executable called `name` on `PATH`, in `PATH` order. */
export function findOnPath(name: string, path: string = process.env.PATH ?? ''): string[] {
  const found: string[] = [];
  for (const dir of path.split(delimiter)) {
    if (dir === '') continue;
    const file = join(dir, name);
    if (isExecutable(file) && !found.includes(file)) found.push(file);
  }
  return found;
}

/** True when `file` exists (symlinks followed) and may be executed. */
export function isExecutable(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** Output of a tool that exited 0. */
export interface ToolOutput {
  stdout: string;
  stderr: string;
}

/** Largest output kept from a tool (compiler diagnostics can be long). */
const MAX_TOOL_OUTPUT_BYTES = 16 * 1024 * 1024;

/**
 * Runs `file args…` and resolves with its output once it exits 0.
 * @throws {BuildError} for step `step` with the tool's diagnostics when it exits non-zero or cannot
 * be started.
 */
export function runTool(step: string, file: string, args: readonly string[], opts: { cwd?: string } = {}): Promise<ToolOutput> {
  return new Promise((resolve, reject) => {
    execFile(file, args, { cwd: opts.cwd, maxBuffer: MAX_TOOL_OUTPUT_BYTES, encoding: 'utf8' }, (err, stdout, stderr) => {
      if (err === null) return resolve({ stdout, stderr });
      const detail = stderr.trim() || stdout.trim() || err.message;
      reject(new BuildError(step, `${file} failed:\n${detail}`, { cause: err }));
    });
  });
}
