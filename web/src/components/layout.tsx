import type { ComponentChildren } from 'preact';
import { useEffect, useRef } from 'preact/hooks';
import { logout } from '../api/endpoints';
import { navigate, useLocation } from '../router';
import { endSession, useSession } from '../session';

function NavLink({ href, children }: { href: string; children: ComponentChildren }) {
  const { path } = useLocation();
  const current = href === '/' ? path === '/' : path === href || path.startsWith(`${href}/`);
  return (
    <a href={href} aria-current={current ? 'page' : undefined}>
      {children}
    </a>
  );
}

async function signOut() {
  try {
    // Revokes the account's tokens on the server too.
    await logout();
  } catch {
    // Signed out here whatever the server said.
  }
  endSession();
  navigate('/signin');
}

/** The frame of every screen: skip link, header with navigation, main. */
export function Layout({ children }: { children: ComponentChildren }) {
  const session = useSession();
  const { path } = useLocation();
  const main = useRef<HTMLElement>(null);
  const first = useRef(true);

  // After a client-side navigation, move focus to the new screen's heading
  // so keyboard and screen-reader users start there (not on the first load).
  useEffect(() => {
    if (first.current) {
      first.current = false;
      return;
    }
    const h1 = main.current?.querySelector('h1');
    if (h1) {
      h1.setAttribute('tabindex', '-1');
      h1.focus({ preventScroll: true });
    }
  }, [path]);

  return (
    <>
      <a class="skip" href="#main">
        Skip to content
      </a>
      <header class="top">
        <a class="brand" href="/">
          <img src="/favicon.svg" alt="" width={28} height={28} />
          <span>Pixshare</span>
        </a>
        <nav aria-label="Main">
          <ul>
            {session ? (
              <li>
                <NavLink href="/">Home</NavLink>
              </li>
            ) : null}
            <li>
              <NavLink href="/explore">Explore</NavLink>
            </li>
            <li>
              <NavLink href="/search">Search</NavLink>
            </li>
            {session ? (
              <>
                <li>
                  <NavLink href="/upload">Upload</NavLink>
                </li>
                <li>
                  <NavLink href={`/u/${encodeURIComponent(session.user.id)}`}>Profile</NavLink>
                </li>
                <li>
                  <NavLink href="/settings">Settings</NavLink>
                </li>
                <li>
                  <button type="button" class="link" onClick={signOut}>
                    Sign out
                  </button>
                </li>
              </>
            ) : (
              <>
                <li>
                  <NavLink href="/signin">Sign in</NavLink>
                </li>
                <li>
                  <NavLink href="/signup">Sign up</NavLink>
                </li>
              </>
            )}
          </ul>
        </nav>
      </header>
      <main id="main" ref={main}>
        {children}
      </main>
    </>
  );
}
