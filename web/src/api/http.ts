// One way to call the API: JSON in and out, the bearer token from the
// session, RFC 9457 problem documents turned into ApiError, and Retry-After
// honoured on 429 and 503.
import { endSession, token } from '../session';

export interface FieldError {
  field: string;
  message: string;
}

export interface Problem {
  type?: string;
  title?: string;
  status: number;
  detail?: string;
  request_id?: string;
  errors?: FieldError[];
}

export class ApiError extends Error {
  readonly status: number;
  readonly problem: Problem;
  /** Seconds to wait before trying again (429, 503, a size not made yet). */
  readonly retryAfter?: number;

  constructor(status: number, problem: Problem, retryAfter?: number) {
    super(problem.detail || problem.title || `HTTP ${status}`);
    this.name = 'ApiError';
    this.status = status;
    this.problem = problem;
    this.retryAfter = retryAfter;
  }

  /** The message the API gave for one field, if any. */
  field(name: string): string | undefined {
    return this.problem.errors?.find((e) => e.field === name)?.message;
  }
}

/** Seconds from a Retry-After header (delay-seconds or an HTTP date). */
export function parseRetryAfter(value: string | null): number | undefined {
  if (!value) return undefined;
  const v = value.trim();
  if (/^\d+$/.test(v)) return Number(v);
  const at = Date.parse(v);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, Math.ceil((at - Date.now()) / 1000));
}

/** Waits are done for the caller only when they are this short. */
const AUTO_RETRY_MAX_SECONDS = 10;
const AUTO_RETRIES = 2;

export type Query = Record<string, string | number | undefined | string[]>;

export interface RequestOptions {
  query?: Query;
  /** A JSON body. */
  json?: unknown;
  /** Any other body (FormData). */
  body?: BodyInit;
  signal?: AbortSignal;
  /**
   * A 401 is about a password in the body (the current one, to change or
   * delete the account), not the token: keep the session.
   */
  passwordCheck?: boolean;
  /** Sees the headers of a successful answer (Retry-After while a post is processing). */
  onHeaders?: (h: Headers) => void;
  /** More request headers (Prefer). */
  headers?: Record<string, string>;
}

export function url(path: string, query?: Query): string {
  if (!query) return path;
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) {
    if (v === undefined || v === '') continue;
    if (Array.isArray(v)) v.forEach((x) => params.append(k, x));
    else params.set(k, String(v));
  }
  const qs = params.toString();
  return qs ? `${path}?${qs}` : path;
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(resolve, ms);
    signal?.addEventListener('abort', () => {
      clearTimeout(t);
      reject(signal.reason);
    });
  });
}

async function problemOf(res: Response): Promise<Problem> {
  const type = res.headers.get('Content-Type') ?? '';
  if (type.includes('json')) {
    try {
      const p = (await res.json()) as Problem;
      if (p && typeof p === 'object') return { ...p, status: res.status };
    } catch {
      // fall through to a bare problem
    }
  }
  return { status: res.status, title: res.statusText };
}

const idempotent = new Set(['GET', 'HEAD', 'PUT', 'DELETE']);

/**
 * Calls the API and returns its JSON answer (undefined for 204).
 *
 * 429 and 503 answers with a short Retry-After are retried after that
 * delay for idempotent methods; anything else is thrown as ApiError with
 * retryAfter set, for the screen to show. A 401 to a request that carried
 * the token ends the session (expired or revoked).
 */
export async function api<T>(method: string, path: string, opts: RequestOptions = {}): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    const headers = new Headers({ Accept: 'application/json, application/problem+json' });
    for (const [k, v] of Object.entries(opts.headers ?? {})) headers.set(k, v);
    const bearer = token();
    if (bearer) headers.set('Authorization', `Bearer ${bearer}`);
    let body = opts.body;
    if (opts.json !== undefined) {
      headers.set('Content-Type', 'application/json');
      body = JSON.stringify(opts.json);
    }
    let res: Response;
    try {
      res = await fetch(url(path, opts.query), { method, headers, body, signal: opts.signal, credentials: 'omit', cache: 'no-store' });
    } catch (e) {
      if (opts.signal?.aborted) throw e;
      throw new ApiError(0, { status: 0, title: 'Network error' });
    }
    if (res.ok) {
      opts.onHeaders?.(res.headers);
      if (res.status === 204) return undefined as T;
      const text = await res.text();
      return (text ? JSON.parse(text) : undefined) as T;
    }
    const retryAfter = parseRetryAfter(res.headers.get('Retry-After'));
    const problem = await problemOf(res);
    if (
      (res.status === 429 || res.status === 503) &&
      idempotent.has(method) &&
      retryAfter !== undefined &&
      retryAfter <= AUTO_RETRY_MAX_SECONDS &&
      attempt < AUTO_RETRIES
    ) {
      await sleep(retryAfter * 1000, opts.signal);
      continue;
    }
    if (res.status === 401 && bearer && !opts.passwordCheck) endSession('Your session ended. Please sign in again.');
    throw new ApiError(res.status, problem, retryAfter);
  }
}

/**
 * Sends a multipart form with XMLHttpRequest, whose upload progress events
 * fetch does not have. onProgress gets the fraction sent (0 to 1).
 */
export function sendWithProgress<T>(
  method: string,
  path: string,
  form: FormData,
  onProgress: (fraction: number) => void,
  headers: Record<string, string> = {},
  signal?: AbortSignal,
): Promise<T> {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open(method, path);
    const bearer = token();
    if (bearer) xhr.setRequestHeader('Authorization', `Bearer ${bearer}`);
    xhr.setRequestHeader('Accept', 'application/json, application/problem+json');
    for (const [k, v] of Object.entries(headers)) xhr.setRequestHeader(k, v);
    xhr.upload.onprogress = (e) => {
      if (e.lengthComputable && e.total > 0) onProgress(e.loaded / e.total);
    };
    xhr.upload.onload = () => onProgress(1);
    xhr.onload = () => {
      let data: unknown;
      try {
        data = xhr.responseText ? JSON.parse(xhr.responseText) : undefined;
      } catch {
        data = undefined;
      }
      if (xhr.status >= 200 && xhr.status < 300) {
        resolve(data as T);
        return;
      }
      if (xhr.status === 401 && bearer) endSession('Your session ended. Please sign in again.');
      const problem: Problem =
        data && typeof data === 'object' ? { ...(data as Problem), status: xhr.status } : { status: xhr.status, title: xhr.statusText };
      reject(new ApiError(xhr.status, problem, parseRetryAfter(xhr.getResponseHeader('Retry-After'))));
    };
    xhr.onerror = () => reject(new ApiError(0, { status: 0, title: 'Network error' }));
    xhr.onabort = () => reject(new DOMException('The upload was cancelled', 'AbortError'));
    signal?.addEventListener('abort', () => xhr.abort());
    xhr.send(form);
  });
}

export function isAbort(e: unknown): boolean {
  return e instanceof DOMException && e.name === 'AbortError';
}
