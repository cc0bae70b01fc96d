import { useEffect, useState } from 'preact/hooks';
import { getUser } from '../api/endpoints';
import type { AuthorSummary } from '../api/types';

/** Profiles already asked for, by id (for posts and comments without an embedded author). */
const known = new Map<string, Promise<AuthorSummary | null>>();

function lookup(id: string): Promise<AuthorSummary | null> {
  let p = known.get(id);
  if (!p) {
    p = getUser(id).then(
      (u) => ({ id: u.id, username: u.username, display_name: u.display_name, avatar_url: u.avatar_url }),
      () => null,
    );
    known.set(id, p);
  }
  return p;
}

/** The embedded author, or the profile read by id when the API sent none. */
export function useAuthor(id: string, author?: AuthorSummary): AuthorSummary | null {
  const [a, set] = useState<AuthorSummary | null>(author ?? null);
  useEffect(() => {
    if (author) {
      set(author);
      return undefined;
    }
    let live = true;
    void lookup(id).then((found) => live && set(found));
    return () => {
      live = false;
    };
  }, [id, author]);
  return a;
}

/** "Ada Lovelace" → "AL"; a one-word name or a username → its first letter. */
export function initials(name: string): string {
  const words = name.trim().split(/\s+/).filter(Boolean);
  const first = Array.from(words[0] ?? '?')[0];
  const second = words.length > 1 ? Array.from(words[words.length - 1])[0] : '';
  return (first + second).toUpperCase();
}

/** One size of an avatar: avatar_url names the version; the size is added to it. */
export function avatarSrc(url: string, size: 'thumb' | 'small' | 'medium'): string {
  return `${url}${url.includes('?') ? '&' : '?'}size=${size}`;
}

/** A round picture of a person; decorative, as their name stands beside it. */
export function Avatar({ user, size = 'small' }: { user: { username: string; display_name?: string; avatar_url?: string } | null; size?: 'small' | 'large' }) {
  const cls = `avatar avatar-${size}`;
  const url = user?.avatar_url;
  if (url) {
    // Square sizes of 150, 320 and 640 pixels: thumb fills a 36 px avatar
    // even at 4x; a 96 px one takes small on dense screens.
    return size === 'large' ? (
      <img class={cls} src={avatarSrc(url, 'thumb')} srcset={`${avatarSrc(url, 'thumb')} 150w, ${avatarSrc(url, 'small')} 320w`} sizes="96px" alt="" decoding="async" />
    ) : (
      <img class={cls} src={avatarSrc(url, 'thumb')} alt="" loading="lazy" decoding="async" />
    );
  }
  return (
    <span class={cls} aria-hidden="true">
      {initials(user?.display_name || user?.username || '?')}
    </span>
  );
}

/** "Ada Lovelace @ada", or "@ada" for someone without a display name. */
export function PersonName({ person }: { person: { username: string; display_name?: string } }) {
  return person.display_name ? (
    <>
      <strong>{person.display_name}</strong> <span class="muted">@{person.username}</span>
    </>
  ) : (
    <strong>@{person.username}</strong>
  );
}

/** A link to a person's profile with their avatar and name. */
export function AuthorLink({ id, author }: { id: string; author?: AuthorSummary }) {
  const a = useAuthor(id, author);
  return (
    <a class="author" href={`/u/${encodeURIComponent(id)}`}>
      <Avatar user={a} />
      <span class="author-name">
        {a ? (
          <PersonName person={a} />
        ) : (
          <strong>Author's profile</strong>
        )}
      </span>
    </a>
  );
}
