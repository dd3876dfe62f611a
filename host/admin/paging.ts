/**
 * Paging of the admin API's lists (`limit` / `cursor`). A page is the `limit` smallest keys after
 * the cursor, found in one pass with a bounded max-heap: O(n log limit) per page and no sort of
 * the whole list, so paging through 19 000 channels costs each page a few ms at most. The cursor
 * is the last key of the previous page, so entries that appear or go between pages never shift
 * the others (unlike an offset).
 */
import { AdminRequestError } from '../errors.js';
import { ADMIN_DEFAULT_PAGE_LIMIT, ADMIN_MAX_PAGE_LIMIT } from '../limits.js';

/** The `limit` and `cursor` of a list request, validated. */
export interface PageQuery<K> {
  readonly limit: number;
  /** Keys after this one; undefined: from the start. */
  readonly cursor: K | undefined;
}

/**
 * Reads `limit` (1 to ADMIN_MAX_PAGE_LIMIT, default ADMIN_DEFAULT_PAGE_LIMIT) and `cursor` from a query.
 * @param parseCursor turns the cursor text into a key; returns undefined when malformed.
 * @throws {AdminRequestError} 400 naming the bad parameter.
 */
export function parsePageQuery<K>(query: URLSearchParams, parseCursor: (text: string) => K | undefined): PageQuery<K> {
  const limitText = query.get('limit');
  let limit = ADMIN_DEFAULT_PAGE_LIMIT;
  if (limitText !== null) {
    limit = /^\d{1,7}$/.test(limitText) ? Number(limitText) : NaN;
    if (!(limit >= 1 && limit <= ADMIN_MAX_PAGE_LIMIT)) {
      throw new AdminRequestError(
        'PB_ERR_ADMIN_BAD_REQUEST',
        400,
        `limit must be an integer from 1 to ${ADMIN_MAX_PAGE_LIMIT}, got ${JSON.stringify(limitText)}`,
      );
    }
  }
  const cursorText = query.get('cursor');
  let cursor: K | undefined;
  if (cursorText !== null && cursorText !== '') {
    cursor = parseCursor(cursorText);
    if (cursor === undefined)
      throw new AdminRequestError('PB_ERR_ADMIN_BAD_REQUEST', 400, `cursor ${JSON.stringify(cursorText)} is not one this list returned`);
  }
  return { limit, cursor };
}

/** A page: its items in key order, and the cursor of the next page (null on the last). */
export interface Page<T> {
  readonly items: T[];
  readonly nextCursor: string | null;
}

/**
 * The `limit` items with the smallest keys above `cursor`, in key order.
 * @param compare orders keys (negative: a before b).
 */
export function pageOf<T, K>(
  items: Iterable<T>,
  keyOf: (item: T) => K,
  compare: (a: K, b: K) => number,
  q: PageQuery<K>,
  cursorText: (key: K) => string,
): Page<T> {
  // Max-heap of the best `limit + 1` (the extra one tells whether another page follows).
  const cap = q.limit + 1;
  const heap: { key: K; item: T }[] = [];
  const above = (i: number, j: number): boolean => compare(heap[i].key, heap[j].key) > 0;
  const swap = (i: number, j: number): void => {
    const t = heap[i];
    heap[i] = heap[j];
    heap[j] = t;
  };
  for (const item of items) {
    const key = keyOf(item);
    if (q.cursor !== undefined && compare(key, q.cursor) <= 0) continue;
    if (heap.length === cap) {
      if (compare(key, heap[0].key) >= 0) continue;
      heap[0] = { key, item };
      for (let i = 0; ;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < heap.length && above(l, m)) m = l;
        if (r < heap.length && above(r, m)) m = r;
        if (m === i) break;
        swap(i, m);
        i = m;
      }
    } else {
      heap.push({ key, item });
      for (let i = heap.length - 1; i > 0;) {
        const parent = (i - 1) >> 1;
        if (!above(i, parent)) break;
        swap(i, parent);
        i = parent;
      }
    }
  }
  heap.sort((a, b) => compare(a.key, b.key));
  const more = heap.length > q.limit;
  if (more) heap.length = q.limit;
  return { items: heap.map((e) => e.item), nextCursor: more ? cursorText(heap[heap.length - 1].key) : null };
}
