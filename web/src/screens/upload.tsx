import { useEffect, useRef, useState } from 'preact/hooks';
import { getPost, uploadPost } from '../api/endpoints';
import { isAbort, parseRetryAfter } from '../api/http';
import type { Post } from '../api/types';
import { ErrorNote, Field, Status } from '../components/ui';
import { useCooldown, useTitle } from '../hooks';

const MAX_BYTES = 20 * 1024 * 1024;
const TYPES = ['image/jpeg', 'image/png', 'image/gif', 'image/webp'];

/** A key that makes a retried upload answer with the first attempt's post. */
function idempotencyKey(): string {
  const b = new Uint8Array(16);
  crypto.getRandomValues(b);
  return Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
}

type Stage = { kind: 'edit' } | { kind: 'uploading'; fraction: number } | { kind: 'processing'; post: Post } | { kind: 'done'; post: Post };

/** How long each read asks the server to wait for the post to move on. */
const WAIT_SECONDS = 20;

/**
 * Reads the post until it is ready or failed. Each read asks the server to
 * answer only once the post's processing moved on ("Prefer: wait"); an
 * answer it waited for is followed by the next read at once. One it did not
 * wait for (too many reads waiting there) is followed after what
 * Retry-After says when the API sends it, else 1 s growing to 5 s.
 */
async function waitReady(id: string, signal: AbortSignal, onPost: (p: Post) => void): Promise<Post> {
  let delay = 1000;
  for (;;) {
    let retryAfter: number | undefined;
    let waited = false;
    const post = await getPost(
      id,
      signal,
      (h) => {
        retryAfter = parseRetryAfter(h.get('Retry-After'));
        waited = (h.get('Preference-Applied') ?? '').startsWith('wait=');
      },
      WAIT_SECONDS,
    );
    onPost(post);
    if (post.status !== 'processing') return post;
    if (waited) continue;
    const wait = retryAfter !== undefined ? retryAfter * 1000 : delay;
    delay = Math.min(delay * 1.5, 5000);
    await new Promise<void>((resolve, reject) => {
      const t = setTimeout(resolve, wait);
      signal.addEventListener('abort', () => {
        clearTimeout(t);
        reject(signal.reason);
      });
    });
  }
}

export function Upload() {
  useTitle('Upload');
  const [file, setFile] = useState<File | null>(null);
  const [preview, setPreview] = useState('');
  const [caption, setCaption] = useState('');
  const [tags, setTags] = useState('');
  const [alt, setAlt] = useState('');
  const [fileError, setFileError] = useState('');
  const [error, setError] = useState<unknown>(undefined);
  const [stage, setStage] = useState<Stage>({ kind: 'edit' });
  const [dragging, setDragging] = useState(false);
  const key = useRef(idempotencyKey());
  const abort = useRef<AbortController | null>(null);
  const input = useRef<HTMLInputElement>(null);
  const wait = useCooldown(error);

  useEffect(
    () => () => {
      const ctl = abort.current;
      abort.current = null;
      ctl?.abort();
    },
    [],
  );
  useEffect(() => () => (preview ? URL.revokeObjectURL(preview) : undefined), [preview]);

  function choose(f: File | null | undefined) {
    setError(undefined);
    setFileError('');
    if (!f) return;
    if (f.type && !TYPES.includes(f.type)) {
      setFileError('Choose a JPEG, PNG, GIF or WebP picture.');
      return;
    }
    if (f.size > MAX_BYTES) {
      setFileError('That picture is larger than 20 MB.');
      return;
    }
    setFile(f);
    setPreview(URL.createObjectURL(f));
    // A new picture is a new upload.
    key.current = idempotencyKey();
  }

  async function submit(e: Event) {
    e.preventDefault();
    if (!file) {
      setFileError('Choose a picture first.');
      input.current?.focus();
      return;
    }
    setError(undefined);
    const ctl = new AbortController();
    abort.current = ctl;
    setStage({ kind: 'uploading', fraction: 0 });
    try {
      const post = await uploadPost({ image: file, caption: caption.trim(), tags, altText: alt.trim() }, key.current, (fraction) => setStage({ kind: 'uploading', fraction }), ctl.signal);
      setStage({ kind: 'processing', post });
      const done = await waitReady(post.id, ctl.signal, (p) => setStage(p.status === 'processing' ? { kind: 'processing', post: p } : { kind: 'done', post: p }));
      setStage({ kind: 'done', post: done });
    } catch (err) {
      if (ctl.signal.aborted && isAbort(err) && abort.current !== ctl) return; // left the screen
      if (!isAbort(err)) setError(err);
      setStage({ kind: 'edit' });
    }
  }

  function reset() {
    setFile(null);
    setPreview('');
    setCaption('');
    setTags('');
    setAlt('');
    setError(undefined);
    setStage({ kind: 'edit' });
    key.current = idempotencyKey();
  }

  if (stage.kind === 'processing' || stage.kind === 'done') {
    const p = stage.post;
    const ready = stage.kind === 'done' && p.status === 'ready';
    const failed = p.status === 'failed';
    return (
      <section class="narrow">
        <h1>{ready ? 'Your picture is posted' : failed ? 'Processing failed' : 'Processing your picture'}</h1>
        {preview ? <img class="preview" src={preview} alt={alt.trim() || 'The picture you uploaded'} /> : null}
        <progress max={1} value={ready || failed ? 1 : undefined} aria-label="Processing" />
        <Status>
          {ready
            ? 'Ready: your post is live.'
            : failed
              ? "We couldn't process this picture. Try another one."
              : p.thumbnail_ready
                ? 'Sizes made; indexing for search…'
                : 'Making the sizes of your picture…'}
        </Status>
        <p class="actions">
          {ready ? (
            <a class="button" href={`/p/${encodeURIComponent(p.id)}`}>
              View your post
            </a>
          ) : null}
          <button type="button" class="secondary" onClick={reset}>
            Upload another
          </button>
        </p>
      </section>
    );
  }

  const uploading = stage.kind === 'uploading';
  const percent = uploading ? Math.round(stage.fraction * 100) : 0;
  return (
    <section class="narrow">
      <h1>Upload a picture</h1>
      <form onSubmit={submit}>
        <div
          class={dragging ? 'drop dragging' : 'drop'}
          onDragOver={(e) => {
            e.preventDefault();
            setDragging(true);
          }}
          onDragLeave={() => setDragging(false)}
          onDrop={(e) => {
            e.preventDefault();
            setDragging(false);
            choose(e.dataTransfer?.files?.[0]);
          }}
        >
          {preview ? <img class="preview" src={preview} alt={alt.trim() || 'Preview of the chosen picture'} /> : null}
          <div class="field">
            <label for="upload-image">Picture</label>
            <input
              ref={input}
              id="upload-image"
              name="image"
              type="file"
              accept={TYPES.join(',')}
              disabled={uploading}
              aria-describedby={fileError ? 'upload-image-hint upload-image-err' : 'upload-image-hint'}
              aria-invalid={fileError ? true : undefined}
              onChange={(e) => choose(e.currentTarget.files?.[0])}
            />
            <p class="hint" id="upload-image-hint">
              Choose a picture or drop it here. JPEG, PNG, GIF or WebP, up to 20 MB.
            </p>
            {fileError ? (
              <p class="field-error" id="upload-image-err">
                {fileError}
              </p>
            ) : null}
          </div>
        </div>
        <Field label="Caption" name="caption" value={caption} onValue={setCaption} error={error} multiline maxLength={2200} disabled={uploading} />
        <Field
          label="Tags"
          name="tags"
          value={tags}
          onValue={setTags}
          error={error}
          disabled={uploading}
          hint="Separate tags with commas, for example: sunset, sea"
          autoComplete="off"
        />
        <Field
          label="Alt text"
          name="alt_text"
          value={alt}
          onValue={setAlt}
          error={error}
          multiline
          rows={2}
          maxLength={1500}
          disabled={uploading}
          hint="Describe the picture for people who can't see it."
        />
        <ErrorNote error={error} />
        {uploading ? (
          <div class="progress">
            <label for="upload-progress">Uploading {percent}%</label>
            <progress id="upload-progress" max={100} value={percent} />
            <button type="button" class="secondary" onClick={() => abort.current?.abort()}>
              Cancel
            </button>
          </div>
        ) : null}
        <button type="submit" disabled={uploading || wait > 0}>
          {uploading ? 'Uploading…' : 'Post'}
        </button>
      </form>
    </section>
  );
}
