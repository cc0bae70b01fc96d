import { Fragment, render } from 'preact';
import { Layout } from './components/layout';
import { here, interceptLinks, match, navigate, useLocation } from './router';
import { Explore, Home, TagTimeline } from './screens/timelines';
import { NotFound } from './screens/notfound';
import { PostPage } from './screens/post';
import { ProfilePage } from './screens/profile';
import { SearchPage } from './screens/search';
import { Settings } from './screens/settings';
import { SignIn, SignUp } from './screens/auth';
import { Upload } from './screens/upload';
import { useSession } from './session';
import { useEffect } from 'preact/hooks';
import './styles.css';

/** Screens that need a signed-in user send others to sign in first. */
const needsSession = new Set(['upload', 'settings']);

function App() {
  const { path, query } = useLocation();
  const session = useSession();
  const m = match(path);
  const guarded = needsSession.has(m.name) && !session;
  useEffect(() => {
    if (guarded) navigate(`/signin?next=${encodeURIComponent(here())}`, { replace: true });
  }, [guarded]);
  if (guarded) return <Layout>{null}</Layout>;

  let screen;
  switch (m.name) {
    case 'home':
      screen = <Home />;
      break;
    case 'signin':
      screen = <SignIn next={query.get('next')} />;
      break;
    case 'signup':
      screen = <SignUp next={query.get('next')} />;
      break;
    case 'explore':
      screen = <Explore />;
      break;
    case 'tag':
      screen = <TagTimeline tag={m.params.tag} />;
      break;
    case 'upload':
      screen = <Upload />;
      break;
    case 'post':
      screen = <PostPage id={m.params.id} />;
      break;
    case 'search':
      screen = <SearchPage q={query.get('q') ?? ''} />;
      break;
    case 'profile':
      screen = <ProfilePage id={m.params.id} />;
      break;
    case 'settings':
      screen = <Settings />;
      break;
    default:
      screen = <NotFound />;
  }
  // key: a new screen (or the same screen for another id) starts afresh.
  return (
    <Layout>
      <Fragment key={path}>{screen}</Fragment>
    </Layout>
  );
}

interceptLinks();
const root = document.getElementById('app');
if (root) {
  root.textContent = '';
  render(<App />, root);
}
