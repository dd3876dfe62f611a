/** Reading the input files of `broker test` (session scripts, recordings), with one error shape. */
import { readFile } from 'node:fs/promises';
import { TestInputError } from '../errors.js';

/**
 * The text of `file`.
 * @param what what the file is, for the message (`the session script`, `the recording`)
 * @throws {TestInputError} `code`, naming the file, when it cannot be read.
 */
export async function readTestInput(file: string, code: TestInputCode, what: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (cause) {
    const errno = (cause as NodeJS.ErrnoException).code;
    throw new TestInputError(code, file, undefined, `cannot read ${what}: ${errno === 'ENOENT' ? 'no such file' : (cause as Error).message}`, { cause });
  }
}

/** The codes a `TestInputError` carries. */
export type TestInputCode = ConstructorParameters<typeof TestInputError>[0];
