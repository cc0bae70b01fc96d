import { useState } from 'preact/hooks';
import { block, follow, getUser, postsByAuthor, unblock, unfollow } from '../api/endpoints';
import { ApiError } from '../api/http';
import type { Profile } from '../api/types';
import { Avatar } from '../components/people';
import { Grid, PostTile } from '../components/posts';
import { ErrorNote, LoadMore, Loading, count } from '../components/ui';
import { useAsync, usePaged, useTitle } from '../hooks';
import { useSession } from '../session';

export function ProfilePage({ id }: { id: string }) {
  const session = useSession();
  const profile = useAsync(() => getUser(id), [id, session?.user.id]);
  // What this screen did, until the profile is read again.
  const [blocked, setBlocked] = useState<boolean | null>(null);
  const [error, setError] = useState<unknown>(undefined);
  const [busy, setBusy] = useState(false);
  const p = profile.data;
  useTitle(p ? `${p.display_name || p.username} (@${p.username})` : 'Profile');

  async function act(fn: () => Promise<void>, then: () => void) {
    setBusy(true);
    setError(undefined);
    try {
      await fn();
      then();
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  }

  if (blocked || (blocked === null && p?.relationship?.blocking)) {
    // After a block the profile is hidden from both: say so, and offer the way back.
    return (
      <section class="narrow">
        <h1>{p ? `You blocked @${p.username}` : 'You blocked this account'}</h1>
        <p>You won't see each other's posts or comments, and neither of you can follow the other.</p>
        <ErrorNote error={error} />
        <button
          type="button"
          class="secondary"
          disabled={busy}
          onClick={() =>
            act(
              () => unblock(id),
              () => {
                setBlocked(null);
                profile.reload();
              },
            )
          }
        >
          Unblock
        </button>
      </section>
    );
  }
  if (profile.loading) return <Loading what="Loading the profile" />;
  if (!p) {
    const hidden = profile.error instanceof ApiError && profile.error.status === 404;
    return (
      <section class="narrow">
        <h1>Profile not available</h1>
        {hidden ? <p>This account doesn't exist, or it isn't visible to you.</p> : <ErrorNote error={profile.error} />}
        {hidden && session ? (
          <p>
            If you blocked this account, you can unblock it in <a href="/settings#blocked">Settings</a>.
          </p>
        ) : null}
      </section>
    );
  }

  const me = session?.user.id === p.id;
  const rel = p.relationship;
  const following = !!rel?.following;

  return (
    <section>
      <header class="profile-head">
        <Avatar user={p} size="large" />
        <div class="profile-info">
          <h1>
            {p.display_name ? (
              <>
                {p.display_name} <span class="muted handle">@{p.username}</span>
              </>
            ) : (
              `@${p.username}`
            )}
          </h1>
          <ul class="counts" aria-label="Counts">
            <li>{count(p.follower_count, 'follower')}</li>
            <li>{p.following_count.toLocaleString('en')} following</li>
          </ul>
          {rel?.followed_by ? <p class="badge">Follows you</p> : null}
          {p.bio ? <p class="bio">{p.bio}</p> : null}
          <div class="actions">
            {me ? (
              <a class="button secondary" href="/settings">
                Edit profile
              </a>
            ) : session ? (
              <>
                <button
                  type="button"
                  class={following ? 'secondary' : ''}
                  aria-pressed={following}
                  disabled={busy}
                  onClick={() =>
                    act(
                      () => (following ? unfollow(p.id) : follow(p.id)),
                      () =>
                        profile.set({
                          ...p,
                          follower_count: Math.max(0, p.follower_count + (following ? -1 : 1)),
                          relationship: { following: !following, followed_by: !!rel?.followed_by, blocking: false },
                        }),
                    )
                  }
                >
                  {following ? 'Following' : 'Follow'}
                  <span class="visually-hidden"> @{p.username}</span>
                </button>
                <BlockButton profile={p} busy={busy} onBlock={() => act(() => block(p.id), () => setBlocked(true))} />
              </>
            ) : (
              <a class="button" href={`/signin?next=${encodeURIComponent(`/u/${p.id}`)}`}>
                Sign in to follow
              </a>
            )}
          </div>
          <ErrorNote error={error} />
        </div>
      </header>
      <h2>Posts</h2>
      <PostsOf profile={p} />
    </section>
  );
}

function BlockButton({ profile, busy, onBlock }: { profile: Profile; busy: boolean; onBlock: () => void }) {
  const [asking, setAsking] = useState(false);
  if (!asking) {
    return (
      <button type="button" class="secondary" onClick={() => setAsking(true)}>
        Block<span class="visually-hidden"> @{profile.username}</span>
      </button>
    );
  }
  return (
    <span class="confirm" role="group" aria-label="Confirm block">
      <span>Block @{profile.username}? You won't see each other's posts or comments.</span>
      <button type="button" class="danger" onClick={onBlock} disabled={busy}>
        Yes, block
      </button>
      <button type="button" class="secondary" onClick={() => setAsking(false)}>
        Cancel
      </button>
    </span>
  );
}

function PostsOf({ profile }: { profile: Profile }) {
  const list = usePaged((cursor) => postsByAuthor(profile.id, { limit: 24, cursor }), [profile.id]);
  return (
    <>
      {list.items.length ? (
        <Grid label={`Posts by @${profile.username}`}>
          {list.items.map((p) => (
            <PostTile key={p.id} post={p} />
          ))}
        </Grid>
      ) : list.done && !list.error ? (
        <p class="muted">No posts yet.</p>
      ) : null}
      <LoadMore list={list} label="Show more posts" />
    </>
  );
}
