// Listing helpers every page uses: one page at a time of a cursor-paged
// listing (the API never answers a whole list to the UI) and a value that
// settles while the user types.
import { useEffect, useState } from "react";
import { page, withQuery } from "../api";

/** `value`, once it has stayed the same for `ms` milliseconds. */
export function useDebounced<T>(value: T, ms = 250): T {
  const [settled, setSettled] = useState(value);
  useEffect(() => {
    const t = setTimeout(() => setSettled(value), ms);
    return () => clearTimeout(t);
  }, [value, ms]);
  return settled;
}

export interface Paged<T> {
  items: T[];
  loading: boolean;
  error: unknown;
  /** Number of the page shown, from 1. */
  number: number;
  hasPrev: boolean;
  hasNext: boolean;
  prev: () => void;
  next: () => void;
  reload: () => void;
}

type QueryValue = string | number | boolean | null | undefined;

/**
 * One page at a time of a cursor-paged listing (`?limit=` and the
 * `X-Next-Cursor` of the page before). Changing `query` starts again from
 * the first page; the cursors of the pages seen are kept to go back.
 */
export function usePaged<T>(path: string, query: Record<string, QueryValue>, limit = 50): Paged<T> {
  const key = `${path}?${JSON.stringify(query)}`;
  const [nav, setNav] = useState<{ key: string; stack: (string | null)[] }>({ key, stack: [null] });
  const stack = nav.key === key ? nav.stack : [null];
  const cursor = stack[stack.length - 1];
  const [items, setItems] = useState<T[]>([]);
  const [nextCursor, setNextCursor] = useState<string | null>(null);
  const [loading, setLoading] = useState(true);
  const [error, setError] = useState<unknown>(null);
  const [tick, setTick] = useState(0);

  useEffect(() => {
    const ac = new AbortController();
    setLoading(true);
    page<T>(withQuery(path, { ...query, limit, cursor }), ac.signal)
      .then((p) => {
        setItems(p.items);
        setNextCursor(p.next);
        setError(null);
      })
      .catch((e: unknown) => {
        if (!ac.signal.aborted) setError(e);
      })
      .finally(() => {
        if (!ac.signal.aborted) setLoading(false);
      });
    return () => ac.abort();
    // `key` stands for `path` and `query`.
  }, [key, cursor, limit, tick]);

  return {
    items,
    loading,
    error,
    number: stack.length,
    hasPrev: stack.length > 1,
    hasNext: !!nextCursor && !loading,
    prev: () => setNav({ key, stack: stack.slice(0, -1) }),
    next: () => nextCursor && setNav({ key, stack: [...stack, nextCursor] }),
    reload: () => setTick((t) => t + 1),
  };
}
