import type { ComponentChildren } from 'preact';
import { useState } from 'preact/hooks';
import { like, unlike } from '../api/endpoints';
import type { Post, Size } from '../api/types';
import { getSession } from '../session';
import { AuthorLink } from './people';
import { ErrorNote, Time, count } from './ui';

/** The nominal widths of the sizes the thumbnailer makes (thumb is a square crop). */
const widths: [Size, number][] = [
  ['small', 320],
  ['medium', 640],
  ['large', 1080],
];

/** The text alternative of a post's picture: its alt text, else its caption. */
export function altOf(post: { alt_text?: string; caption: string }): string {
  const alt = post.alt_text?.trim();
  if (alt) return alt;
  const caption = post.caption.trim();
  return caption ? `Picture: ${caption}` : 'Picture without a description';
}

/**
 * srcset of the resized sizes and the original. A size is never wider
 * than the original, so only the sizes narrower than it are offered.
 */
export function srcSet(post: Post): string {
  const w = post.width && post.width > 0 ? post.width : undefined;
  const parts = widths.filter(([, px]) => !w || px < w).map(([size, px]) => `${post.images[size]} ${px}w`);
  if (w) parts.push(`${post.images.original} ${w}w`);
  return parts.join(', ');
}

/** The picture at the width the layout gives it (sizes), from srcset. */
export function PostImage({ post, sizes, eager = false }: { post: Post; sizes: string; eager?: boolean }) {
  if (post.status !== 'ready') {
    return (
      <div class="image-placeholder" role="img" aria-label={post.status === 'failed' ? 'This picture could not be processed' : 'This picture is still being processed'}>
        {post.status === 'failed' ? 'Processing failed' : 'Processing…'}
      </div>
    );
  }
  return (
    <img
      class="post-image"
      src={post.images.medium}
      srcset={srcSet(post)}
      sizes={sizes}
      width={post.width}
      height={post.height}
      alt={altOf(post)}
      loading={eager ? 'eager' : 'lazy'}
      decoding="async"
    />
  );
}

/** Like / unlike, with the count; optimistic, undone if the API refuses. */
export function LikeButton({ post, onChange }: { post: Post; onChange: (p: Post) => void }) {
  const [error, setError] = useState<unknown>(undefined);
  const [busy, setBusy] = useState(false);
  const signedIn = !!getSession();
  const liked = !!post.liked;
  const likes = post.like_count ?? 0;
  async function toggle() {
    if (busy) return;
    setBusy(true);
    setError(undefined);
    const before = post;
    onChange({ ...post, liked: !liked, like_count: Math.max(0, likes + (liked ? -1 : 1)) });
    try {
      await (liked ? unlike(post.id) : like(post.id));
    } catch (e) {
      onChange(before);
      setError(e);
    } finally {
      setBusy(false);
    }
  }
  return (
    <div class="like">
      {signedIn ? (
        <button type="button" class={liked ? 'like-button liked' : 'like-button'} aria-pressed={liked} onClick={toggle} disabled={busy}>
          <span aria-hidden="true">{liked ? '♥' : '♡'}</span> Like
        </button>
      ) : null}
      {post.like_count !== undefined ? <span class="like-count">{count(likes, 'like')}</span> : null}
      <ErrorNote error={error} />
    </div>
  );
}

export function Tags({ tags }: { tags: string[] }) {
  if (!tags.length) return null;
  return (
    <ul class="tags" aria-label="Tags">
      {tags.map((t) => (
        <li key={t}>
          <a href={`/tags/${encodeURIComponent(t)}`}>#{t}</a>
        </li>
      ))}
    </ul>
  );
}

/** A post in a timeline: author, picture, likes, caption, tags. */
export function PostCard({ post, onChange }: { post: Post; onChange: (p: Post) => void }) {
  const href = `/p/${encodeURIComponent(post.id)}`;
  return (
    <article class="card" aria-labelledby={`post-${post.id}-by`}>
      <header class="card-head" id={`post-${post.id}-by`}>
        <AuthorLink id={post.author_id} author={post.author} />
        <a class="muted small" href={href}>
          <Time iso={post.created_at} />
        </a>
      </header>
      <a href={href} class="card-image">
        <PostImage post={post} sizes="(min-width: 700px) 640px, 100vw" />
      </a>
      <div class="card-body">
        <LikeButton post={post} onChange={onChange} />
        {post.caption ? <p class="caption">{post.caption}</p> : null}
        <Tags tags={post.tags} />
        <a class="small" href={href}>
          {post.comment_count ? `View ${count(post.comment_count, 'comment')}` : 'Comment'}
        </a>
      </div>
    </article>
  );
}

/** Square tiles of posts (a profile, search results). */
export function Grid({ children, label }: { children: ComponentChildren; label: string }) {
  return (
    <ul class="grid" aria-label={label}>
      {children}
    </ul>
  );
}

/** One square tile: the thumb, or the small size on wide or dense screens. */
export function Tile({ id, alt, thumb, small }: { id: string; alt: string; thumb: string; small?: string }) {
  return (
    <li>
      <a href={`/p/${encodeURIComponent(id)}`} class="tile">
        <img
          src={thumb}
          srcset={small ? `${thumb} 150w, ${small} 320w` : undefined}
          sizes={small ? '(min-width: 700px) 210px, 33vw' : undefined}
          alt={alt}
          loading="lazy"
          decoding="async"
        />
      </a>
    </li>
  );
}

export function PostTile({ post }: { post: Post }) {
  if (post.status !== 'ready') {
    return (
      <li>
        <a href={`/p/${encodeURIComponent(post.id)}`} class="tile tile-pending">
          {post.status === 'failed' ? 'Failed' : 'Processing…'}
        </a>
      </li>
    );
  }
  return <Tile id={post.id} alt={altOf(post)} thumb={post.images.thumb} small={post.images.small} />;
}
