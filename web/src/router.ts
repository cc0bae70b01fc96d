// A small client-side router on the History API: the gateway answers every
// client path with index.html, and this module picks the screen.
import { useEffect, useState } from 'preact/hooks';

export interface Location {
  path: string;
  query: URLSearchParams;
}

const listeners = new Set<() => void>();

function read(): Location {
  return { path: window.location.pathname, query: new URLSearchParams(window.location.search) };
}

let current = read();

function changed() {
  current = read();
  for (const fn of listeners) fn();
}

/** Goes to a path of this client (pushes a history entry unless replace). */
export function navigate(to: string, opts: { replace?: boolean } = {}) {
  const next = new URL(to, window.location.href);
  if (next.origin !== window.location.origin) {
    window.location.assign(next.href);
    return;
  }
  const target = next.pathname + next.search + next.hash;
  if (target === window.location.pathname + window.location.search + window.location.hash) {
    changed();
    return;
  }
  if (opts.replace) window.history.replaceState(null, '', target);
  else window.history.pushState(null, '', target);
  window.scrollTo(0, 0);
  changed();
}

export function useLocation(): Location {
  const [loc, set] = useState(current);
  useEffect(() => {
    const fn = () => set(current);
    listeners.add(fn);
    set(current);
    return () => listeners.delete(fn);
  }, []);
  return loc;
}

/** Paths the gateway serves itself: full page loads, not client routes. */
const serverPaths = /^\/(v1(\/|$)|docs(\/|$)|openapi\.yaml$|healthz$|readyz$)/;

/**
 * Links to this client become client-side navigations: one listener on the
 * document handles every <a href> (plain left clicks on same-origin links).
 */
export function interceptLinks() {
  window.addEventListener('popstate', changed);
  document.addEventListener('click', (e) => {
    if (e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
    const a = (e.target as Element | null)?.closest?.('a');
    if (!a || !a.href || a.target || a.hasAttribute('download')) return;
    const dest = new URL(a.href);
    if (dest.origin !== window.location.origin || serverPaths.test(dest.pathname)) return;
    e.preventDefault();
    navigate(dest.pathname + dest.search + dest.hash);
  });
}

export interface Match {
  name: string;
  params: Record<string, string>;
}

type Pattern = [name: string, re: RegExp, keys: string[]];

function compile(name: string, pattern: string): Pattern {
  const keys: string[] = [];
  const re = pattern.replace(/:([a-z]+)/g, (_, k: string) => {
    keys.push(k);
    return '([^/]+)';
  });
  return [name, new RegExp(`^${re}/?$`), keys];
}

const patterns: Pattern[] = [
  compile('home', '/'),
  compile('signin', '/signin'),
  compile('signup', '/signup'),
  compile('explore', '/explore'),
  compile('tag', '/tags/:tag'),
  compile('upload', '/upload'),
  compile('post', '/p/:id'),
  compile('search', '/search'),
  compile('profile', '/u/:id'),
  compile('settings', '/settings'),
];

export function match(path: string): Match {
  for (const [name, re, keys] of patterns) {
    const m = re.exec(path);
    if (m) {
      const params: Record<string, string> = {};
      keys.forEach((k, i) => {
        try {
          params[k] = decodeURIComponent(m[i + 1]);
        } catch {
          params[k] = m[i + 1];
        }
      });
      return { name, params };
    }
  }
  return { name: 'notfound', params: {} };
}

/** A path with its query, for ?next= after signing in. */
export function here(): string {
  return window.location.pathname + window.location.search;
}

/** A safe ?next= value: a path of this client, never another origin. */
export function safeNext(next: string | null): string {
  if (!next || !next.startsWith('/') || next.startsWith('//') || next.startsWith('/\\')) return '/';
  return next;
}
