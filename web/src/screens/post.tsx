import { useState } from 'preact/hooks';
import { addComment, comments, deleteComment, deletePost, editComment, getPost } from '../api/endpoints';
import type { Comment, Post } from '../api/types';
import { AuthorLink } from '../components/people';
import { LikeButton, PostImage, Tags } from '../components/posts';
import { ErrorNote, Field, LoadMore, Loading, Time, count } from '../components/ui';
import { useAsync, useCooldown, usePaged, useTitle } from '../hooks';
import { navigate } from '../router';
import { useSession } from '../session';

export function PostPage({ id }: { id: string }) {
  const post = useAsync(() => getPost(id), [id]);
  const session = useSession();
  useTitle(post.data ? post.data.caption.slice(0, 60) || 'Post' : 'Post');
  const [deleting, setDeleting] = useState(false);
  const [error, setError] = useState<unknown>(undefined);

  if (post.loading) return <Loading what="Loading the post" />;
  if (!post.data) {
    return (
      <section class="narrow">
        <h1>Post not available</h1>
        <ErrorNote error={post.error} />
        <p>
          <a href="/">Back home</a>
        </p>
      </section>
    );
  }
  const p = post.data;
  const mine = session?.user.id === p.author_id;

  async function remove() {
    setError(undefined);
    try {
      await deletePost(p.id);
      navigate(`/u/${encodeURIComponent(p.author_id)}`, { replace: true });
    } catch (e) {
      setError(e);
    }
  }

  return (
    <article class="post-page" aria-labelledby="post-title">
      <div class="post-media">
        <PostImage post={p} sizes="(min-width: 1000px) 600px, (min-width: 700px) 90vw, 100vw" eager />
      </div>
      <div class="post-side">
        <header class="card-head">
          <AuthorLink id={p.author_id} author={p.author} />
          <Time iso={p.created_at} />
        </header>
        <h1 id="post-title" class="caption-title">
          {p.caption || 'A picture'}
        </h1>
        <Tags tags={p.tags} />
        <LikeButton post={p} onChange={post.set} />
        {mine ? (
          <div class="owner-actions">
            {deleting ? (
              <>
                <span>Delete this post and its comments?</span>
                <button type="button" class="danger" onClick={remove}>
                  Yes, delete
                </button>
                <button type="button" class="secondary" onClick={() => setDeleting(false)}>
                  Keep it
                </button>
              </>
            ) : (
              <button type="button" class="secondary" onClick={() => setDeleting(true)}>
                Delete post
              </button>
            )}
            <ErrorNote error={error} />
          </div>
        ) : null}
        <Comments post={p} onCount={(n) => post.set({ ...p, comment_count: n })} />
      </div>
    </article>
  );
}

function Comments({ post, onCount }: { post: Post; onCount: (n: number) => void }) {
  const session = useSession();
  const list = usePaged((cursor) => comments(post.id, { limit: 20, cursor }), [post.id]);
  // Comments written here, shown after the loaded ones until a page brings
  // them (the list is oldest first, so they belong at its end).
  const [added, setAdded] = useState<Comment[]>([]);
  const [body, setBody] = useState('');
  const [error, setError] = useState<unknown>(undefined);
  const [busy, setBusy] = useState(false);
  const wait = useCooldown(error);
  const loaded = new Set(list.items.map((c) => c.id));
  const shown = list.items.concat(added.filter((c) => !loaded.has(c.id)));

  function update(fn: (items: Comment[]) => Comment[]) {
    list.setItems(fn);
    setAdded(fn);
  }

  async function add(e: Event) {
    e.preventDefault();
    if (!body.trim()) return;
    setBusy(true);
    setError(undefined);
    try {
      const c = await addComment(post.id, body.trim());
      setAdded((items) => [...items, c]);
      onCount(post.comment_count + 1);
      setBody('');
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  }

  return (
    <section class="comments" aria-labelledby="comments-title">
      <h2 id="comments-title">{count(post.comment_count, 'comment')}</h2>
      {shown.length ? (
        <ul class="comment-list">
          {shown.map((c) => (
            <CommentItem
              key={c.id}
              comment={c}
              canEdit={session?.user.id === c.author_id}
              canDelete={session?.user.id === c.author_id || session?.user.id === post.author_id}
              onChange={(nc) => update((items) => items.map((x) => (x.id === nc.id ? nc : x)))}
              onDelete={() => {
                update((items) => items.filter((x) => x.id !== c.id));
                onCount(Math.max(0, post.comment_count - 1));
              }}
            />
          ))}
        </ul>
      ) : list.done && !list.error ? (
        <p class="muted">No comments yet.</p>
      ) : null}
      <LoadMore list={list} label="Show more comments" />
      {session ? (
        <form class="comment-form" onSubmit={add}>
          <Field label="Add a comment" name="body" value={body} onValue={setBody} error={error} multiline rows={2} maxLength={2200} required />
          <ErrorNote error={error} />
          <button type="submit" disabled={busy || wait > 0 || !body.trim()}>
            {busy ? 'Posting…' : 'Post comment'}
          </button>
        </form>
      ) : (
        <p>
          <a href={`/signin?next=${encodeURIComponent(`/p/${post.id}`)}`}>Sign in</a> to comment.
        </p>
      )}
    </section>
  );
}

function CommentItem({
  comment,
  canEdit,
  canDelete,
  onChange,
  onDelete,
}: {
  comment: Comment;
  canEdit: boolean;
  canDelete: boolean;
  onChange: (c: Comment) => void;
  onDelete: () => void;
}) {
  const [editing, setEditing] = useState(false);
  const [confirming, setConfirming] = useState(false);
  const [draft, setDraft] = useState(comment.body);
  const [error, setError] = useState<unknown>(undefined);
  const [busy, setBusy] = useState(false);

  async function save(e: Event) {
    e.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      onChange(await editComment(comment.post_id, comment.id, draft.trim()));
      setEditing(false);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  }
  async function remove() {
    setBusy(true);
    setError(undefined);
    try {
      await deleteComment(comment.post_id, comment.id);
      onDelete();
    } catch (err) {
      setError(err);
      setBusy(false);
    }
  }

  return (
    <li class="comment">
      <div class="comment-head">
        <AuthorLink id={comment.author_id} author={comment.author} />
        <span class="muted small">
          <Time iso={comment.created_at} />
          {comment.updated_at !== comment.created_at ? ' · edited' : ''}
        </span>
      </div>
      {editing ? (
        <form onSubmit={save}>
          <Field label="Edit your comment" name="body" value={draft} onValue={setDraft} error={error} multiline rows={2} maxLength={2200} required />
          <div class="actions">
            <button type="submit" disabled={busy || !draft.trim()}>
              Save
            </button>
            <button
              type="button"
              class="secondary"
              onClick={() => {
                setEditing(false);
                setDraft(comment.body);
              }}
            >
              Cancel
            </button>
          </div>
        </form>
      ) : (
        <p class="comment-body">{comment.body}</p>
      )}
      {!editing && (canEdit || canDelete) ? (
        <div class="actions small">
          {confirming ? (
            <>
              <span>Delete this comment?</span>
              <button type="button" class="danger" onClick={remove} disabled={busy}>
                Yes, delete
              </button>
              <button type="button" class="secondary" onClick={() => setConfirming(false)}>
                No
              </button>
            </>
          ) : (
            <>
              {canEdit ? (
                <button type="button" class="link" onClick={() => setEditing(true)}>
                  Edit<span class="visually-hidden"> comment</span>
                </button>
              ) : null}
              {canDelete ? (
                <button type="button" class="link" onClick={() => setConfirming(true)}>
                  Delete<span class="visually-hidden"> comment</span>
                </button>
              ) : null}
            </>
          )}
        </div>
      ) : null}
      {!editing ? <ErrorNote error={error} /> : null}
    </li>
  );
}
