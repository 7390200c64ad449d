import { useCallback, useEffect, useState } from 'react';
import type { Page } from '../api/types';
import { useAction } from './useAction';

/**
 * NHN paging: a page answer carries `nextToken` when there is more. Going back re-uses the token
 * that fetched that page, so the list keeps the tokens of every page visited.
 * Tokens fix the page size when issued, so changing `limit` starts again from the first page.
 */
export function usePagedList<T>(fetchPage: (limit: number, nextToken?: string) => Promise<Page<T>>, limit: number) {
  const [tokens, setTokens] = useState<(string | undefined)[]>([undefined]);
  const [pageIndex, setPageIndex] = useState(0);
  const [page, setPage] = useState<Page<T> | null>(null);
  const action = useAction();
  const { run } = action;

  const load = useCallback(
    async (index: number, token: string | undefined) => {
      const p = await run(() => fetchPage(limit, token));
      if (p) {
        setPage(p);
        setPageIndex(index);
      }
      return p;
    },
    [fetchPage, limit, run],
  );

  useEffect(() => {
    setTokens([undefined]);
    void load(0, undefined);
  }, [load]);

  const next = useCallback(async () => {
    if (!page?.nextToken) return;
    const token = page.nextToken;
    if (await load(pageIndex + 1, token)) setTokens((t) => [...t.slice(0, pageIndex + 1), token]);
  }, [load, page, pageIndex]);

  const previous = useCallback(async () => {
    if (pageIndex > 0) await load(pageIndex - 1, tokens[pageIndex - 1]);
  }, [load, pageIndex, tokens]);

  const reload = useCallback(() => load(pageIndex, tokens[pageIndex]), [load, pageIndex, tokens]);
  const first = useCallback(() => {
    setTokens([undefined]);
    return load(0, undefined);
  }, [load]);

  return {
    items: page?.items ?? [],
    loaded: page !== null,
    pageIndex,
    hasNext: Boolean(page?.nextToken),
    hasPrevious: pageIndex > 0,
    next,
    previous,
    reload,
    first,
    busy: action.busy,
    error: action.error,
  };
}
