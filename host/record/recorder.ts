/**
 * `SessionRecorder`: writes the `--record` file (recording-format.ts). Lines are buffered and
 * written synchronously in blocks of `FLUSH_BYTES` (and at `close`), so a recording costs one
 * `JSON.stringify` per event or host call and no I/O on the message path; nothing at all when
 * `--record` is off (the broker then never creates one). Once `maxBytes` would be passed it writes
 * a `truncated` line and records nothing more.
 */
import { closeSync, openSync, writeSync } from 'node:fs';
import type { RecordedCall, RecordedEvent, RecordingHeader, RecordingTruncated } from './recording-format.js';

/** Buffered bytes that trigger a write. */
const FLUSH_BYTES = 64 * 1024;
/** Room kept for the `truncated` line. */
const TRUNCATED_LINE_BYTES = 80;

/** Options of `SessionRecorder`. */
export interface RecorderOptions {
  readonly file: string;
  /** Most bytes the file may hold (`--record-max-bytes`). */
  readonly maxBytes: number;
  /** Leave payloads out (`--record-omit-payloads`). */
  readonly omitPayloads: boolean;
}

export class SessionRecorder {
  readonly omitPayloads: boolean;
  /** Wall clock of the header, ms since the epoch. */
  readonly startMs: number;
  readonly #fd: number;
  readonly #maxBytes: number;
  #chunks: string[] = [];
  #buffered = 0;
  #written = 0;
  #full = false;
  #closed = false;

  /**
   * Creates (or truncates) the file.
   * @throws the `fs` error when it cannot be opened.
   */
  constructor(opts: RecorderOptions) {
    this.#fd = openSync(opts.file, 'w');
    this.#maxBytes = opts.maxBytes;
    this.omitPayloads = opts.omitPayloads;
    this.startMs = Date.now();
  }

  /** Whether the size bound was reached (nothing more is recorded). */
  get truncated(): boolean {
    return this.#full;
  }

  /** ms since the start. */
  now(): number {
    return Date.now() - this.startMs;
  }

  header(h: Omit<RecordingHeader, 't' | 'startMs' | 'omitPayloads'>): void {
    this.#line({ t: 'header', ...h, startMs: this.startMs, omitPayloads: this.omitPayloads });
  }

  event(e: RecordedEvent): void {
    this.#line(e);
  }

  call(c: RecordedCall): void {
    this.#line(c);
  }

  /** A payload as the file keeps it: `{ payload: base64, bytes }`, or only `{ bytes }`. */
  payload(src: Uint8Array, start = 0, end = src.length): { payload?: string; bytes: number } {
    const bytes = end - start;
    if (this.omitPayloads) return { bytes };
    return { payload: Buffer.from(src.buffer, src.byteOffset + start, bytes).toString('base64'), bytes };
  }

  /** Writes what is buffered and closes the file. Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#flush();
    closeSync(this.#fd);
  }

  #line(value: RecordingHeader | RecordedEvent | RecordedCall | RecordingTruncated): void {
    if (this.#full || this.#closed) return;
    const text = JSON.stringify(value) + '\n';
    const size = Buffer.byteLength(text);
    if (this.#written + this.#buffered + size + TRUNCATED_LINE_BYTES > this.#maxBytes) {
      this.#full = true;
      const end = JSON.stringify({ t: 'truncated', ms: this.now(), bytes: this.#written + this.#buffered } satisfies RecordingTruncated) + '\n';
      this.#chunks.push(end);
      this.#buffered += Buffer.byteLength(end);
      this.#flush();
      return;
    }
    this.#chunks.push(text);
    this.#buffered += size;
    if (this.#buffered >= FLUSH_BYTES) this.#flush();
  }

  #flush(): void {
    if (this.#buffered === 0) return;
    const block = this.#chunks.join('');
    this.#chunks = [];
    this.#written += this.#buffered;
    this.#buffered = 0;
    writeSync(this.#fd, block);
  }
}
