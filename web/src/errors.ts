// Problem documents in plain words.
import { ApiError } from './api/http';

function sentence(s: string): string {
  const t = s.trim();
  if (!t) return '';
  const first = t[0].toUpperCase() + t.slice(1);
  return /[.!?]$/.test(first) ? first : `${first}.`;
}

function wait(seconds: number | undefined): string {
  if (seconds === undefined) return 'Please try again in a moment.';
  if (seconds <= 1) return 'Please try again in a second.';
  if (seconds < 120) return `Please try again in ${seconds} seconds.`;
  return `Please try again in ${Math.ceil(seconds / 60)} minutes.`;
}

/** What went wrong, for a person: a sentence or two, no status codes. */
export function describe(err: unknown): string {
  if (!(err instanceof ApiError)) {
    return 'Something went wrong in this page. Reload it and try again.';
  }
  const detail = err.problem.detail ? sentence(err.problem.detail) : '';
  switch (err.status) {
    case 0:
      return "Pixshare can't be reached. Check your connection and try again.";
    case 400:
      return detail ? `That request wasn't accepted: ${detail}` : "That request wasn't accepted.";
    case 401:
      return 'You need to sign in again.';
    case 403:
      return detail ? `You can't do that. ${detail}` : "You can't do that.";
    case 404:
      return "We couldn't find that. It may have been deleted, or it isn't visible to you.";
    case 409:
      return detail || 'That is already taken.';
    case 413:
      return 'That file is too large. Pictures can be up to 20 MB.';
    case 415:
      return "That file isn't a picture Pixshare can use. Choose a JPEG, PNG, GIF or WebP image.";
    case 422:
      return err.problem.errors?.length ? 'Please correct the fields marked below.' : detail || 'Please check what you entered.';
    case 429:
      return `That was too many requests in a short time. ${wait(err.retryAfter)}`;
    case 503:
      return `Pixshare is busy or briefly unavailable. ${wait(err.retryAfter)}`;
    case 504:
      return 'Pixshare took too long to answer. Please try again.';
    default:
      if (err.status >= 500) {
        const ref = err.problem.request_id ? ` (reference ${err.problem.request_id})` : '';
        return `Something went wrong on our side${ref}. Please try again later.`;
      }
      return detail || 'That did not work. Please try again.';
  }
}

/** The API's message for one form field, in plain words. */
export function fieldError(err: unknown, field: string): string | undefined {
  if (!(err instanceof ApiError)) return undefined;
  const m = err.field(field);
  return m ? sentence(m) : undefined;
}
