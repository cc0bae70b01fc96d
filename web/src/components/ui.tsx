import type { ComponentChildren } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import { ApiError } from '../api/http';
import { describe, fieldError } from '../errors';
import { useCooldown, type Paged } from '../hooks';

/** An error in plain words; a rate limit counts down to when to retry. */
export function ErrorNote({ error, id }: { error: unknown; id?: string }) {
  const left = useCooldown(error);
  if (!error) return null;
  const limited = error instanceof ApiError && (error.status === 429 || error.status === 503) && error.retryAfter;
  return (
    <div class="error" role="alert" id={id}>
      <p>{limited && left === 0 ? 'You can try again now.' : describe(error)}</p>
      {limited && left > 0 ? <p class="hint">Ready again in {left} s.</p> : null}
    </div>
  );
}

/** A status line read out by screen readers when it changes. */
export function Status({ children }: { children: ComponentChildren }) {
  return (
    <p class="status" role="status">
      {children}
    </p>
  );
}

export function Loading({ what = 'Loading' }: { what?: string }) {
  return (
    <p class="loading" role="status">
      {what}…
    </p>
  );
}

interface FieldProps {
  label: string;
  name: string;
  value: string;
  onValue: (v: string) => void;
  /** The request whose field errors to show. */
  error?: unknown;
  /** A local message, shown instead of the API's. */
  message?: string;
  hint?: string;
  type?: 'text' | 'email' | 'password';
  multiline?: boolean;
  rows?: number;
  required?: boolean;
  autoComplete?: string;
  maxLength?: number;
  minLength?: number;
  disabled?: boolean;
  autoFocus?: boolean;
}

let fieldIds = 0;

/** A labelled input or textarea with its hint and error tied to it. */
export function Field(p: FieldProps) {
  const [uid] = useState(() => `f${++fieldIds}`);
  const id = `${uid}-${p.name}`;
  const err = p.message ?? fieldError(p.error, p.name);
  const describedBy = [p.hint ? `${id}-hint` : '', err ? `${id}-err` : ''].filter(Boolean).join(' ') || undefined;
  const common = {
    id,
    name: p.name,
    value: p.value,
    required: p.required,
    disabled: p.disabled,
    maxLength: p.maxLength,
    minLength: p.minLength,
    autoComplete: p.autoComplete,
    'aria-invalid': err ? true : undefined,
    'aria-describedby': describedBy,
    autoFocus: p.autoFocus,
  };
  return (
    <div class="field">
      <label for={id}>{p.label}</label>
      {p.multiline ? (
        <textarea {...common} rows={p.rows ?? 3} onInput={(e) => p.onValue(e.currentTarget.value)} />
      ) : (
        // (Preact's types tie role to each input type; a union of types needs the cast.)
        <input {...common} type={(p.type ?? 'text') as 'text'} onInput={(e) => p.onValue(e.currentTarget.value)} />
      )}
      {p.hint ? (
        <p class="hint" id={`${id}-hint`}>
          {p.hint}
        </p>
      ) : null}
      {err ? (
        <p class="field-error" id={`${id}-err`}>
          {err}
        </p>
      ) : null}
    </div>
  );
}

/**
 * The end of a cursor list: a button that loads the next page, pressed by
 * itself when it scrolls into view (infinite scroll), and usable from the
 * keyboard.
 */
export function LoadMore<T>({ list, label = 'Show more' }: { list: Paged<T>; label?: string }) {
  const ref = useRef<HTMLButtonElement>(null);
  const { more, loading, done, error } = list;
  useEffect(() => {
    const el = ref.current;
    if (!el || done || error || typeof IntersectionObserver === 'undefined') return undefined;
    const io = new IntersectionObserver(
      (entries) => {
        if (entries.some((e) => e.isIntersecting)) more();
      },
      { rootMargin: '600px 0px' },
    );
    io.observe(el);
    return () => io.disconnect();
  }, [more, done, error, loading]);
  if (done && !error) return null;
  return (
    <div class="load-more">
      {error ? <ErrorNote error={error} /> : null}
      <button type="button" class="secondary" ref={ref} onClick={more} disabled={loading} aria-busy={loading}>
        {loading ? 'Loading…' : error ? 'Try again' : label}
      </button>
    </div>
  );
}

const rtf = typeof Intl !== 'undefined' && 'RelativeTimeFormat' in Intl ? new Intl.RelativeTimeFormat('en', { numeric: 'auto' }) : null;

/** A date as "3 minutes ago", with the exact time for machines. */
export function Time({ iso }: { iso: string }) {
  const at = Date.parse(iso);
  if (Number.isNaN(at)) return null;
  const s = Math.round((at - Date.now()) / 1000);
  const abs = Math.abs(s);
  let text: string;
  if (!rtf) text = new Date(at).toLocaleString();
  else if (abs < 45) text = 'just now';
  else if (abs < 3600) text = rtf.format(Math.round(s / 60), 'minute');
  else if (abs < 86400) text = rtf.format(Math.round(s / 3600), 'hour');
  else if (abs < 86400 * 30) text = rtf.format(Math.round(s / 86400), 'day');
  else text = new Date(at).toLocaleDateString();
  return (
    <time dateTime={new Date(at).toISOString()} title={new Date(at).toLocaleString()}>
      {text}
    </time>
  );
}

/** Plural: count(3, 'like') is "3 likes". */
export function count(n: number, word: string, plural = `${word}s`): string {
  return `${n.toLocaleString('en')} ${n === 1 ? word : plural}`;
}
