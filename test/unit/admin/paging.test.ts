import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { pageOf, parsePageQuery } from '../../../host/admin/paging.js';
import { ADMIN_DEFAULT_PAGE_LIMIT, ADMIN_MAX_PAGE_LIMIT } from '../../../host/limits.js';

const byNumber = (a: number, b: number): number => a - b;
const parseId = (t: string): number | undefined => (/^\d+$/.test(t) ? Number(t) : undefined);

/** Walks every page and returns what they listed, in order. */
function walk(ids: readonly number[], limit: number): number[] {
  const seen: number[] = [];
  let cursor: number | undefined;
  for (let pages = 0; pages <= ids.length + 1; pages++) {
    const page = pageOf(ids, (x) => x, byNumber, { limit, cursor }, String);
    seen.push(...page.items);
    if (page.nextCursor === null) return seen;
    expect(page.items).toHaveLength(limit);
    cursor = Number(page.nextCursor);
  }
  throw new Error('paging did not end');
}

describe('pageOf', () => {
  it('lists every item exactly once, in key order, for any input order and page size', () => {
    fc.assert(
      fc.property(fc.uniqueArray(fc.integer({ min: 1, max: 1_000_000 }), { maxLength: 300 }), fc.integer({ min: 1, max: 40 }), (ids, limit) => {
        expect(walk(ids, limit)).toEqual([...ids].sort(byNumber));
      }),
    );
  });

  it('returns no next cursor when the last page is exactly full', () => {
    const page = pageOf([3, 1, 2], (x) => x, byNumber, { limit: 3, cursor: undefined }, String);
    expect(page).toEqual({ items: [1, 2, 3], nextCursor: null });
  });

  it('starts after the cursor even when the cursor item is gone', () => {
    const page = pageOf([10, 30, 40], (x) => x, byNumber, { limit: 10, cursor: 20 }, String);
    expect(page.items).toEqual([30, 40]);
  });
});

describe('parsePageQuery', () => {
  it('defaults the limit and reads the cursor', () => {
    expect(parsePageQuery(new URLSearchParams(''), parseId)).toEqual({ limit: ADMIN_DEFAULT_PAGE_LIMIT, cursor: undefined });
    expect(parsePageQuery(new URLSearchParams('limit=5&cursor=17'), parseId)).toEqual({ limit: 5, cursor: 17 });
  });

  it.each(['0', '-1', 'ten', '1.5', String(ADMIN_MAX_PAGE_LIMIT + 1), ''])('refuses limit=%j with 400', (limit) => {
    expect(() => parsePageQuery(new URLSearchParams({ limit }), parseId)).toThrow(expect.objectContaining({ code: 'PB_ERR_ADMIN_BAD_REQUEST', status: 400 }));
  });

  it('refuses a cursor the list never returned with 400', () => {
    expect(() => parsePageQuery(new URLSearchParams('cursor=abc'), parseId)).toThrow(
      expect.objectContaining({ code: 'PB_ERR_ADMIN_BAD_REQUEST', status: 400 }),
    );
  });
});
