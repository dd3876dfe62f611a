/**
 * Readable diffs of frame lists for `broker test`: each frame on one line, as JSON text when it is
 * printable UTF-8 and as `<hex …>` otherwise, lines only in the expectation marked `-`, lines only
 * in what the plugin did marked `+`, common lines `=` (a longest-common-subsequence line diff, the
 * classic dynamic programme; the lists a step compares are short).
 */

/** Frames longer than this are shown cut, with their length. */
const MAX_SHOWN_BYTES = 200;

/** One frame as one line of text. */
export function showFrame(frame: Uint8Array): string {
  const buf = Buffer.from(frame.buffer, frame.byteOffset, frame.byteLength);
  const cut = buf.length > MAX_SHOWN_BYTES ? buf.subarray(0, MAX_SHOWN_BYTES) : buf;
  const text = cut.toString('utf8');
  // Printable text round-trips through UTF-8 and has no control characters except tab.
  // eslint-disable-next-line no-control-regex
  const printable = Buffer.from(text, 'utf8').equals(cut) && !/[\u0000-\u0008\u000b-\u001f\u007f]/.test(text);
  const shown = printable ? JSON.stringify(text) : `<hex ${cut.toString('hex')}>`;
  return buf.length > MAX_SHOWN_BYTES ? `${shown}… (${buf.length} bytes)` : shown;
}

/**
 * The diff of `expected` against `actual` (each a list of already-rendered lines), indented by
 * `indent`, with a header naming both sides.
 */
export function diffLines(expected: readonly string[], actual: readonly string[], indent = '  '): string {
  const n = expected.length;
  const m = actual.length;
  // lcs[i][j]: length of the longest common subsequence of expected[i..] and actual[j..].
  const lcs: number[][] = Array.from({ length: n + 1 }, () => new Array<number>(m + 1).fill(0));
  for (let i = n - 1; i >= 0; i--)
    for (let j = m - 1; j >= 0; j--) lcs[i][j] = expected[i] === actual[j] ? lcs[i + 1][j + 1] + 1 : Math.max(lcs[i + 1][j], lcs[i][j + 1]);
  const out = [`${indent}- expected (the script)`, `${indent}+ actual (the plugin)`];
  let i = 0;
  let j = 0;
  while (i < n || j < m) {
    if (i < n && j < m && expected[i] === actual[j]) {
      out.push(`${indent}= ${expected[i++]}`);
      j++;
    } else if (i < n && (j === m || lcs[i + 1][j] >= lcs[i][j + 1])) {
      out.push(`${indent}- ${expected[i++]}`);
    } else {
      out.push(`${indent}+ ${actual[j++]}`);
    }
  }
  if (n === 0 && m === 0) out.push(`${indent}  (both empty)`);
  return out.join('\n');
}

/** The diff of two frame lists. */
export function diffFrames(expected: readonly Uint8Array[], actual: readonly Uint8Array[], indent = '  '): string {
  const e = expected.map(showFrame);
  const a = actual.map(showFrame);
  const lines = diffLines(e.length === 0 ? [] : e, a.length === 0 ? [] : a, indent);
  return expected.length === 0 && actual.length > 0
    ? `${lines}\n${indent}(the script expects no frames)`
    : actual.length === 0 && expected.length > 0
      ? `${lines}\n${indent}(the plugin sent none)`
      : lines;
}
