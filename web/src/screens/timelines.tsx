import type { ComponentChildren } from 'preact';
import { feed, publicTimeline, tagTimeline, type PageQuery } from '../api/endpoints';
import type { Page, Post } from '../api/types';
import { PostCard } from '../components/posts';
import { LoadMore } from '../components/ui';
import { usePaged, useTitle } from '../hooks';
import { useSession } from '../session';

const PAGE = 10;

/** A list of posts that grows as it scrolls (cursor pages). */
function Timeline({ load, label, empty, deps }: { load: (p: PageQuery) => Promise<Page<Post>>; label: string; empty: ComponentChildren; deps: unknown[] }) {
  const list = usePaged((cursor) => load({ limit: PAGE, cursor }), deps);
  const replace = (p: Post) => list.setItems((items) => items.map((x) => (x.id === p.id ? p : x)));
  return (
    <>
      {list.items.length ? (
        <ul class="timeline" aria-label={label}>
          {list.items.map((p) => (
            <li key={p.id}>
              <PostCard post={p} onChange={replace} />
            </li>
          ))}
        </ul>
      ) : list.done && !list.error ? (
        <div class="empty">{empty}</div>
      ) : null}
      <LoadMore list={list} label="Show more posts" />
    </>
  );
}

export function Home() {
  const session = useSession();
  useTitle(session ? 'Home' : '');
  if (!session) {
    return (
      <section class="column">
        <div class="hero">
          <h1>Share your pictures with the people who matter</h1>
          <p>Follow friends, post photos, and find pictures by tag.</p>
          <p class="actions">
            <a class="button" href="/signup">
              Create an account
            </a>
            <a class="button secondary" href="/signin">
              Sign in
            </a>
          </p>
        </div>
        <h2>Latest pictures</h2>
        <Timeline load={publicTimeline} label="Latest pictures" deps={['public']} empty={<p>No pictures yet.</p>} />
      </section>
    );
  }
  return (
    <section class="column">
      <h1>Your feed</h1>
      <Timeline
        load={feed}
        label="Your feed"
        deps={['feed', session.user.id]}
        empty={
          <p>
            Your feed is empty. <a href="/upload">Post a picture</a>, or <a href="/explore">explore</a> and follow people.
          </p>
        }
      />
    </section>
  );
}

export function Explore() {
  useTitle('Explore');
  return (
    <section class="column">
      <h1>Explore</h1>
      <p class="muted">The latest pictures from everyone.</p>
      <Timeline load={publicTimeline} label="Latest pictures" deps={['public']} empty={<p>No pictures yet.</p>} />
    </section>
  );
}

export function TagTimeline({ tag }: { tag: string }) {
  const t = tag.replace(/^#/, '').toLowerCase();
  useTitle(`#${t}`);
  return (
    <section class="column">
      <h1>#{t}</h1>
      <Timeline load={(p) => tagTimeline(t, p)} label={`Pictures tagged ${t}`} deps={['tag', t]} empty={<p>No pictures with this tag yet.</p>} />
    </section>
  );
}
