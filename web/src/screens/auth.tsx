import { useState } from 'preact/hooks';
import { login, register } from '../api/endpoints';
import { ApiError } from '../api/http';
import { ErrorNote, Field } from '../components/ui';
import { useCooldown, useTitle } from '../hooks';
import { navigate, safeNext } from '../router';
import { startSession, takeEndReason } from '../session';

async function signIn(name: string, password: string, next: string | null) {
  const res = await login(name, password);
  startSession(res.access_token, res.expires_in, res.user);
  navigate(safeNext(next), { replace: true });
}

export function SignIn({ next }: { next: string | null }) {
  useTitle('Sign in');
  const [reason] = useState(takeEndReason);
  const [name, setName] = useState('');
  const [password, setPassword] = useState('');
  const [error, setError] = useState<unknown>(undefined);
  const [busy, setBusy] = useState(false);
  const wait = useCooldown(error);

  async function submit(e: Event) {
    e.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      await signIn(name.trim(), password, next);
    } catch (err) {
      setError(err);
      setBusy(false);
    }
  }
  const wrong = error instanceof ApiError && (error.status === 401 || error.status === 422 || error.status === 400);
  return (
    <section class="narrow">
      <h1>Sign in</h1>
      {reason ? <p class="notice">{reason}</p> : null}
      <form onSubmit={submit}>
        <Field label="Username or email" name="login" value={name} onValue={setName} required autoComplete="username" />
        <Field label="Password" name="password" type="password" value={password} onValue={setPassword} required autoComplete="current-password" />
        {wrong ? (
          <div class="error" role="alert">
            <p>That username or email and password don't match an account.</p>
          </div>
        ) : (
          <ErrorNote error={error} />
        )}
        <button type="submit" disabled={busy || wait > 0}>
          {busy ? 'Signing in…' : 'Sign in'}
        </button>
      </form>
      <p>
        New to Pixshare? <a href={next ? `/signup?next=${encodeURIComponent(next)}` : '/signup'}>Create an account</a>
      </p>
    </section>
  );
}

export function SignUp({ next }: { next: string | null }) {
  useTitle('Sign up');
  const [username, setUsername] = useState('');
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [error, setError] = useState<unknown>(undefined);
  const [busy, setBusy] = useState(false);
  const wait = useCooldown(error);

  async function submit(e: Event) {
    e.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      await register(username.trim(), email.trim(), password);
      await signIn(username.trim(), password, next);
    } catch (err) {
      setError(err);
      setBusy(false);
    }
  }
  return (
    <section class="narrow">
      <h1>Create your account</h1>
      <form onSubmit={submit}>
        <Field
          label="Username"
          name="username"
          value={username}
          onValue={setUsername}
          error={error}
          required
          autoComplete="username"
          minLength={3}
          maxLength={30}
          hint="3 to 30 characters: letters, digits, _ and ."
        />
        <Field label="Email" name="email" type="email" value={email} onValue={setEmail} error={error} required autoComplete="email" />
        <Field
          label="Password"
          name="password"
          type="password"
          value={password}
          onValue={setPassword}
          error={error}
          required
          autoComplete="new-password"
          minLength={10}
          maxLength={128}
          hint="At least 10 characters."
        />
        <ErrorNote error={error} />
        <button type="submit" disabled={busy || wait > 0}>
          {busy ? 'Creating your account…' : 'Sign up'}
        </button>
      </form>
      <p>
        Already have an account? <a href={next ? `/signin?next=${encodeURIComponent(next)}` : '/signin'}>Sign in</a>
      </p>
    </section>
  );
}
