import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import { ApiError, isAbort } from './api/http';
import type { Page } from './api/types';

export interface Async<T> {
  data: T | undefined;
  error: unknown;
  loading: boolean;
  reload: () => void;
  set: (v: T) => void;
}

/** Runs load when deps change; the latest answer wins. */
export function useAsync<T>(load: () => Promise<T>, deps: unknown[]): Async<T> {
  const [state, setState] = useState<{ data?: T; error?: unknown; loading: boolean }>({ loading: true });
  const [tick, setTick] = useState(0);
  useEffect(() => {
    let live = true;
    setState({ loading: true });
    load().then(
      (data) => live && setState({ data, loading: false }),
      (error) => live && setState({ error, loading: false }),
    );
    return () => {
      live = false;
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [...deps, tick]);
  return {
    data: state.data,
    error: state.error,
    loading: state.loading,
    reload: () => setTick((t) => t + 1),
    set: (v: T) => setState({ data: v, loading: false }),
  };
}

export interface Paged<T> {
  items: T[];
  error: unknown;
  loading: boolean;
  done: boolean;
  more: () => void;
  reload: () => void;
  setItems: (fn: (items: T[]) => T[]) => void;
}

/** A cursor list: more() fetches the page after the last one. */
export function usePaged<T>(fetchPage: (cursor?: string) => Promise<Page<T>>, deps: unknown[]): Paged<T> {
  const [view, setView] = useState<{ items: T[]; loading: boolean; done: boolean; error: unknown }>({
    items: [],
    loading: true,
    done: false,
    error: undefined,
  });
  // What the fetches share; a new generation drops answers to an old list.
  const ctl = useRef({ gen: 0, cursor: undefined as string | undefined, busy: false, done: false, items: [] as T[] });
  const fetchRef = useRef(fetchPage);
  fetchRef.current = fetchPage;
  const [tick, setTick] = useState(0);

  const more = useCallback(() => {
    const c = ctl.current;
    if (c.busy || c.done) return;
    c.busy = true;
    const gen = c.gen;
    setView((v) => ({ ...v, loading: true, error: undefined }));
    fetchRef.current(c.cursor).then(
      (page) => {
        if (gen !== ctl.current.gen) return;
        c.busy = false;
        c.cursor = page.next_cursor;
        c.done = !page.next_cursor;
        c.items = c.items.concat(page.items ?? []);
        setView({ items: c.items, loading: false, done: c.done, error: undefined });
      },
      (e) => {
        if (gen !== ctl.current.gen) return;
        c.busy = false;
        setView((v) => ({ ...v, loading: false, error: isAbort(e) ? undefined : e }));
      },
    );
  }, []);

  useEffect(() => {
    ctl.current = { gen: ctl.current.gen + 1, cursor: undefined, busy: false, done: false, items: [] };
    setView({ items: [], loading: true, done: false, error: undefined });
    more();
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [...deps, tick]);

  return {
    ...view,
    more,
    reload: () => setTick((t) => t + 1),
    setItems: (fn: (items: T[]) => T[]) => {
      const c = ctl.current;
      c.items = fn(c.items);
      setView((v) => ({ ...v, items: c.items }));
    },
  };
}

/** Seconds left before a rate-limited action may be tried again. */
export function useCooldown(err: unknown): number {
  const [left, setLeft] = useState(0);
  useEffect(() => {
    if (!(err instanceof ApiError) || !err.retryAfter || (err.status !== 429 && err.status !== 503)) {
      setLeft(0);
      return undefined;
    }
    const until = Date.now() + err.retryAfter * 1000;
    setLeft(err.retryAfter);
    const t = setInterval(() => {
      const s = Math.max(0, Math.ceil((until - Date.now()) / 1000));
      setLeft(s);
      if (s === 0) clearInterval(t);
    }, 250);
    return () => clearInterval(t);
  }, [err]);
  return left;
}

/** Sets the document title for a screen. */
export function useTitle(title: string) {
  useEffect(() => {
    document.title = title ? `${title} · Pixshare` : 'Pixshare';
  }, [title]);
}
