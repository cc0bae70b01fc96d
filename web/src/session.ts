// The signed-in session: the access token lives in this module's memory
// and in sessionStorage (so a reload keeps the tab signed in), never in the
// DOM, a cookie or localStorage. docs/web.md explains the choice and its
// limits.
import { useEffect, useState } from 'preact/hooks';
import type { Me } from './api/types';

export interface Session {
  token: string;
  /** Epoch milliseconds when the token stops working. */
  expiresAt: number;
  user: Me;
}

const KEY = 'pixshare.session';

let current: Session | null = load();
/** Why the last session ended, shown once on the sign-in screen. */
let endedBecause = '';
const listeners = new Set<() => void>();
let expiryTimer: ReturnType<typeof setTimeout> | undefined;

function storage(): Storage | null {
  try {
    return window.sessionStorage;
  } catch {
    return null; // storage disabled: the session lives in memory only
  }
}

function load(): Session | null {
  try {
    const raw = storage()?.getItem(KEY);
    if (!raw) return null;
    const s = JSON.parse(raw) as Session;
    if (typeof s.token !== 'string' || typeof s.expiresAt !== 'number' || !s.user?.id) return null;
    if (s.expiresAt <= Date.now()) {
      storage()?.removeItem(KEY);
      return null;
    }
    return s;
  } catch {
    return null;
  }
}

function save() {
  try {
    if (current) storage()?.setItem(KEY, JSON.stringify(current));
    else storage()?.removeItem(KEY);
  } catch {
    // Storage full or disabled: memory still holds the session.
  }
}

function emit() {
  clearTimeout(expiryTimer);
  if (current) {
    // The API has no refresh tokens: when this one expires, sign out.
    const left = current.expiresAt - Date.now();
    expiryTimer = setTimeout(() => endSession('Your session expired. Please sign in again.'), Math.min(left, 2 ** 31 - 1));
  }
  for (const fn of listeners) fn();
}

export function getSession(): Session | null {
  return current;
}

export function token(): string | null {
  return current?.token ?? null;
}

export function startSession(accessToken: string, expiresIn: number, user: Me) {
  // A minute of margin: a token about to expire is not worth sending.
  current = { token: accessToken, expiresAt: Date.now() + Math.max(expiresIn - 60, 1) * 1000, user };
  endedBecause = '';
  save();
  emit();
}

export function updateUser(user: Me) {
  if (!current) return;
  current = { ...current, user };
  save();
  emit();
}

/** Forgets the token. reason, when given, is shown on the sign-in screen. */
export function endSession(reason = '') {
  if (!current) return;
  current = null;
  endedBecause = reason;
  save();
  emit();
}

/** Returns (once) why the last session ended. */
export function takeEndReason(): string {
  const r = endedBecause;
  endedBecause = '';
  return r;
}

export function subscribe(fn: () => void): () => void {
  listeners.add(fn);
  return () => listeners.delete(fn);
}

/** The current session; the component re-renders when it changes. */
export function useSession(): Session | null {
  const [s, set] = useState(current);
  useEffect(() => {
    set(current);
    return subscribe(() => set(current));
  }, []);
  return s;
}

// Another tab signing out (or in) does not touch this tab's sessionStorage,
// so there is nothing to listen for: each tab is its own session.
if (current) emit();
