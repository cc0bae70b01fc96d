import { useEffect, useState } from 'preact/hooks';
import { deleteMe, getMe, myBlocks, removeAvatar, setAvatar, unblock, updateMe } from '../api/endpoints';
import { ApiError } from '../api/http';
import type { AuthorSummary, Me } from '../api/types';
import { Avatar, PersonName } from '../components/people';
import { ErrorNote, Field, LoadMore, Status } from '../components/ui';
import { useCooldown, usePaged, useTitle } from '../hooks';
import { navigate } from '../router';
import { endSession, getSession, updateUser, useSession } from '../session';

export function Settings() {
  useTitle('Settings');
  const session = useSession();
  // Fresh account data (counts, avatar) once per visit.
  useEffect(() => {
    getMe().then(updateUser, () => undefined);
  }, []);
  if (!session) return null;
  return (
    <section class="narrow settings">
      <h1>Settings</h1>
      <ProfileForm me={session.user} />
      <AvatarForm me={session.user} />
      <PasswordForm />
      <Blocked />
      <DeleteAccount />
    </section>
  );
}

function ProfileForm({ me }: { me: Me }) {
  const [name, setName] = useState(me.display_name);
  const [bio, setBio] = useState(me.bio);
  const [error, setError] = useState<unknown>(undefined);
  const [saved, setSaved] = useState('');
  const [busy, setBusy] = useState(false);
  const wait = useCooldown(error);
  async function save(e: Event) {
    e.preventDefault();
    setBusy(true);
    setError(undefined);
    setSaved('');
    try {
      updateUser(await updateMe({ display_name: name.trim(), bio: bio.trim() }));
      setSaved('Profile saved.');
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  }
  return (
    <form onSubmit={save} aria-labelledby="profile-title">
      <h2 id="profile-title">Profile</h2>
      <p class="muted">
        Signed in as @{me.username} ({me.email})
      </p>
      <Field label="Display name" name="display_name" value={name} onValue={setName} error={error} maxLength={50} autoComplete="name" />
      <Field label="Bio" name="bio" value={bio} onValue={setBio} error={error} multiline maxLength={500} />
      <ErrorNote error={error} />
      {saved ? <Status>{saved}</Status> : null}
      <button type="submit" disabled={busy || wait > 0}>
        Save profile
      </button>
    </form>
  );
}

function AvatarForm({ me }: { me: Me }) {
  const [file, setFile] = useState<File | null>(null);
  const [preview, setPreview] = useState('');
  const [error, setError] = useState<unknown>(undefined);
  const [done, setDone] = useState('');
  const [busy, setBusy] = useState(false);
  useEffect(() => () => (preview ? URL.revokeObjectURL(preview) : undefined), [preview]);

  async function upload(e: Event) {
    e.preventDefault();
    if (!file) return;
    setBusy(true);
    setError(undefined);
    setDone('');
    try {
      let me = await setAvatar(file);
      setFile(null);
      setDone('Preparing your new picture…');
      // The sizes are made in the background (avatar_processing); the new
      // picture shows once they are ready.
      for (let i = 0; me.avatar_processing && i < 60; i++) {
        await new Promise((r) => setTimeout(r, 1000));
        me = await getMe();
      }
      updateUser(me);
      setPreview('');
      setDone(me.avatar_processing ? 'Your new picture will show in a moment.' : 'Picture updated.');
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  }
  async function remove() {
    setBusy(true);
    setError(undefined);
    setDone('');
    try {
      await removeAvatar();
      const s = getSession();
      if (s) updateUser({ ...s.user, avatar_url: '' });
      setDone('Picture removed.');
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  }
  return (
    <form onSubmit={upload} aria-labelledby="avatar-title">
      <h2 id="avatar-title">Profile picture</h2>
      <div class="avatar-row">
        {preview ? <img class="avatar avatar-large" src={preview} alt="Preview of your new profile picture" /> : <Avatar user={me} size="large" />}
        <div class="field">
          <label for="avatar-file">Choose a picture</label>
          <input
            id="avatar-file"
            type="file"
            accept="image/jpeg,image/png,image/gif,image/webp"
            onChange={(e) => {
              const f = e.currentTarget.files?.[0] ?? null;
              setFile(f);
              setPreview(f ? URL.createObjectURL(f) : '');
            }}
          />
        </div>
      </div>
      <ErrorNote error={error} />
      {done ? <Status>{done}</Status> : null}
      <div class="actions">
        <button type="submit" disabled={busy || !file}>
          Save picture
        </button>
        {me.avatar_url ? (
          <button type="button" class="secondary" onClick={remove} disabled={busy}>
            Remove picture
          </button>
        ) : null}
      </div>
    </form>
  );
}

/** A refused current password, in words, for its field. */
function wrongPassword(err: unknown): string | undefined {
  return err instanceof ApiError && (err.status === 401 || err.status === 403) ? "That isn't your current password." : undefined;
}

function PasswordForm() {
  const [current, setCurrent] = useState('');
  const [next, setNext] = useState('');
  const [again, setAgain] = useState('');
  const [error, setError] = useState<unknown>(undefined);
  const [busy, setBusy] = useState(false);
  const mismatch = again !== '' && next !== again ? 'The two new passwords differ.' : undefined;
  async function save(e: Event) {
    e.preventDefault();
    if (mismatch) return;
    setBusy(true);
    setError(undefined);
    try {
      await updateMe({ password: next, current_password: current });
      // A new password revokes every token, this one included.
      endSession('Your password was changed. Sign in with the new one.');
      navigate('/signin', { replace: true });
    } catch (err) {
      setError(err);
      setBusy(false);
    }
  }
  return (
    <form onSubmit={save} aria-labelledby="password-title">
      <h2 id="password-title">Password</h2>
      <Field
        label="Current password"
        name="current_password"
        type="password"
        value={current}
        onValue={setCurrent}
        error={error}
        message={wrongPassword(error)}
        required
        autoComplete="current-password"
      />
      <Field
        label="New password"
        name="password"
        type="password"
        value={next}
        onValue={setNext}
        error={error}
        required
        minLength={10}
        maxLength={128}
        autoComplete="new-password"
        hint="At least 10 characters. You will be signed out everywhere."
      />
      <Field label="New password again" name="password_again" type="password" value={again} onValue={setAgain} message={mismatch} required autoComplete="new-password" />
      {wrongPassword(error) ? null : <ErrorNote error={error} />}
      <button type="submit" disabled={busy || !!mismatch}>
        Change password
      </button>
    </form>
  );
}

function Blocked() {
  const list = usePaged((cursor) => myBlocks({ limit: 50, cursor }), []);
  const [error, setError] = useState<unknown>(undefined);
  async function undo(u: AuthorSummary) {
    setError(undefined);
    try {
      await unblock(u.id);
      list.setItems((items) => items.filter((x) => x.id !== u.id));
    } catch (e) {
      setError(e);
    }
  }
  return (
    <section aria-labelledby="blocked-title" id="blocked">
      <h2 id="blocked-title">Blocked accounts</h2>
      {list.items.length ? (
        <ul class="people">
          {list.items.map((u) => (
            <li key={u.id} class="person-row">
              <span class="author">
                <Avatar user={u} />
                <span class="author-name">
                  <PersonName person={u} />
                </span>
              </span>
              <button type="button" class="secondary" onClick={() => undo(u)}>
                Unblock<span class="visually-hidden"> @{u.username}</span>
              </button>
            </li>
          ))}
        </ul>
      ) : list.done && !list.error ? (
        <p class="muted">You haven't blocked anyone.</p>
      ) : null}
      <ErrorNote error={error} />
      <LoadMore list={list} label="Show more" />
    </section>
  );
}

function DeleteAccount() {
  const [password, setPassword] = useState('');
  const [sure, setSure] = useState(false);
  const [error, setError] = useState<unknown>(undefined);
  const [busy, setBusy] = useState(false);
  async function remove(e: Event) {
    e.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      await deleteMe(password);
      endSession('Your account was deleted.');
      navigate('/signin', { replace: true });
    } catch (err) {
      setError(err);
      setBusy(false);
    }
  }
  return (
    <form onSubmit={remove} aria-labelledby="delete-title" class="danger-zone">
      <h2 id="delete-title">Delete account</h2>
      <p>This deletes your account, your posts and your comments. It can't be undone.</p>
      <Field
        label="Current password"
        name="current_password"
        type="password"
        value={password}
        onValue={setPassword}
        error={error}
        message={wrongPassword(error)}
        required
        autoComplete="current-password"
      />
      <div class="check">
        <input id="delete-sure" type="checkbox" checked={sure} onChange={(e) => setSure(e.currentTarget.checked)} />
        <label for="delete-sure">I understand that this can't be undone</label>
      </div>
      {wrongPassword(error) ? null : <ErrorNote error={error} />}
      <button type="submit" class="danger" disabled={busy || !sure || !password}>
        Delete my account
      </button>
    </form>
  );
}
