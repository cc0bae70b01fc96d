// The browser journey: two people use Pixshare through the web client in
// Debian's Chromium, driven by playwright-core. e2e/web_test.go starts the
// stack and runs this script; to run it by hand against a running stack:
//
//   PIXSHARE_URL=http://127.0.0.1:8080 PIXSHARE_OUT=/tmp/shots node test/journey.mjs
//
// Every screen is captured at a phone (390×844) and a desktop (1280×800)
// size, and checked with axe-core: a serious or critical violation fails.
// Steps check that the API routes they need are in the stack's
// /openapi.yaml; a missing one fails the step, saying which route. With
// PIXSHARE_ALLOW_SKIPS=1 (for a stack older than the client) such steps
// are reported as skipped instead.
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { chromium } from 'playwright-core';
import { AxeBuilder } from '@axe-core/playwright';

const base = (process.env.PIXSHARE_URL ?? 'http://127.0.0.1:8080').replace(/\/$/, '');
const out = resolve(process.env.PIXSHARE_OUT ?? 'test-results');
const photo = resolve(process.env.PIXSHARE_PHOTO ?? '../testdata/photos/landscape.jpg');
const executablePath = process.env.CHROMIUM ?? '/usr/bin/chromium';
mkdirSync(out, { recursive: true });

const PHONE = { width: 390, height: 844 };
const DESKTOP = { width: 1280, height: 800 };
const PASSWORD = 'correct horse battery';
const NEW_PASSWORD = 'battery horse staple';
const started = Date.now();

// ---------------------------------------------------------------- report

const results = [];
/** The people's pages, for a screenshot when a step fails. */
const pages = new Map();

function log(line) {
  const s = ((Date.now() - started) / 1000).toFixed(1).padStart(6);
  console.log(`[${s}s] ${line}`);
}

class Skip extends Error {}

/** Runs one step; a failure stops the journey (later steps build on it). */
async function step(name, fn) {
  const t = Date.now();
  try {
    await fn();
    results.push({ name, status: 'passed' });
    log(`ok   ${name} (${((Date.now() - t) / 1000).toFixed(1)}s)`);
  } catch (e) {
    if (e instanceof Skip) {
      results.push({ name, status: 'skipped', why: e.message });
      log(`skip ${name}: ${e.message}`);
      return;
    }
    results.push({ name, status: 'failed', why: e.stack ?? String(e) });
    log(`FAIL ${name}\n${e.stack ?? e}`);
    // What each person saw when it failed.
    for (const [who, page] of pages) {
      await page.screenshot({ path: join(out, `FAILED-${who}.png`), fullPage: true }).catch(() => {});
      log(`     ${who} was at ${page.url()}: ${join(out, `FAILED-${who}.png`)}`);
    }
    throw e;
  }
}

function skipUnless(ok, why) {
  if (ok) return;
  if (process.env.PIXSHARE_ALLOW_SKIPS === '1') throw new Skip(why);
  throw new Error(why);
}

function assert(ok, message) {
  if (!ok) throw new Error(message);
}

async function eventually(what, fn, timeoutMs = 30_000, everyMs = 500) {
  const until = Date.now() + timeoutMs;
  let last;
  for (;;) {
    try {
      if (await fn()) return;
    } catch (e) {
      last = e;
    }
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}${last ? `: ${last.message}` : ''}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

// ---------------------------------------------------------- what exists

/** The routes and fields of the stack's API, from its merged document. */
async function features() {
  const doc = await (await fetch(`${base}/openapi.yaml`)).text();
  const path = (p) => doc.includes(`\n  ${p}:`);
  return {
    userSearch: path('/v1/users'),
    lookup: path('/v1/users/lookup'),
    timelines: path('/v1/timelines/public'),
    tagTimeline: path('/v1/timelines/tag/{tag}'),
    like: path('/v1/posts/{id}/like'),
    blocks: path('/v1/users/me/blocks'),
    avatar: path('/v1/users/me/avatar'),
    altText: /\n\s+alt_text:/.test(doc),
    currentPassword: /\n\s+current_password:/.test(doc),
    relationship: /\n\s+relationship:/.test(doc),
  };
}

// ------------------------------------------------------ screens and axe

const violations = [];
const consoleErrors = [];

/** Waits until the pictures in view have loaded (srcset may pick another size after a resize). */
async function settle(page) {
  await page
    .waitForFunction(
      () =>
        [...document.images].every((img) => {
          const r = img.getBoundingClientRect();
          const inView = r.bottom > 0 && r.top < innerHeight && r.right > 0 && r.left < innerWidth;
          return !inView || (img.complete && img.naturalWidth > 0);
        }),
      null,
      { timeout: 5000, polling: 100 },
    )
    .catch(() => log(`  (pictures still loading on ${page.url()})`));
  await page.evaluate(() => document.fonts?.ready);
}

/**
 * Saves the screen at both sizes and checks it with axe-core at each.
 * The page goes back to its own size afterwards.
 */
async function capture(page, name) {
  const t = Date.now();
  const own = page.viewportSize();
  for (const [label, size] of [
    ['phone', PHONE],
    ['desktop', DESKTOP],
  ]) {
    await page.setViewportSize(size);
    await settle(page);
    await page.screenshot({ path: join(out, `${name}-${label}.png`) });
    // Legacy mode runs axe in the page itself: the client has no frames,
    // and it saves the blank page the frame-aware mode opens on every pass.
    const res = await new AxeBuilder({ page })
      .setLegacyMode(true)
      .withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa', 'best-practice'])
      .analyze();
    for (const v of res.violations) {
      if (v.impact === 'serious' || v.impact === 'critical') {
        violations.push(`${name} (${label}): ${v.id} [${v.impact}] ${v.help}: ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
      }
    }
  }
  await page.setViewportSize(own);
  log(`     screen ${name}: 2 screenshots, 2 axe passes (${((Date.now() - t) / 1000).toFixed(1)}s)`);
  assert(!violations.length, `axe-core found serious or critical violations:\n${violations.join('\n')}`);
}

async function newPerson(browser, viewport) {
  const context = await browser.newContext({ viewport, locale: 'en-GB', timezoneId: 'Europe/London', reducedMotion: 'reduce' });
  context.setDefaultTimeout(15_000);
  const page = await context.newPage();
  page.on('console', (m) => {
    if (m.type() === 'error') consoleErrors.push(`${m.text()} (${page.url()})`);
  });
  page.on('pageerror', (e) => consoleErrors.push(`uncaught: ${e.message} (${page.url()})`));
  // The CSP is enforced: anything the page tried that it refused shows here.
  await page.addInitScript(() => {
    document.addEventListener('securitypolicyviolation', (e) => {
      console.error(`CSP violation: ${e.violatedDirective} ${e.blockedURI}`);
    });
  });
  return { context, page };
}

const feedPost = (page, alt) => page.getByRole('main').getByRole('img', { name: alt });
const nav = (page, name) => page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name, exact: true });

// ---------------------------------------------------------------- steps

async function signUp(page, username) {
  await page.goto(`${base}/signup`);
  await page.getByLabel('Username').fill(username);
  await page.getByLabel('Email').fill(`${username}@example.com`);
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Sign up' }).click();
  await page.getByRole('heading', { name: 'Your feed' }).waitFor();
  const href = await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Profile' }).getAttribute('href');
  assert(href?.startsWith('/u/'), `no profile link after sign-up (${href})`);
  return href.slice(3);
}

async function main() {
  const f = await features();
  log(`stack ${base}; API features: ${JSON.stringify(f)}`);
  // launch() starts Chromium with a fresh --user-data-dir of its own (a
  // temporary folder it removes on close).
  const browser = await chromium.launch({
    executablePath,
    headless: true,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  try {
    const alice = await newPerson(browser, DESKTOP);
    const bob = await newPerson(browser, PHONE);
    const a = alice.page;
    const b = bob.page;
    pages.set('alice', a);
    pages.set('bob', b);
    const suffix = Date.now().toString(36).slice(-5);
    const aliceName = `alice_${suffix}`;
    const bobName = `bob_${suffix}`;
    let aliceId = '';
    let bobId = '';
    let postId = '';
    let bobPassword = PASSWORD;
    const caption = 'Golden hour over the bay';
    const altText = 'A calm bay under an orange evening sky';
    const postAlt = f.altText ? altText : `Picture: ${caption}`;

    await step('the client is served with its security headers', async () => {
      const res = await a.goto(`${base}/`);
      const h = res.headers();
      assert(res.status() === 200, `GET / answered ${res.status()}`);
      const csp = h['content-security-policy'] ?? '';
      for (const d of ["default-src 'self'", "script-src 'self'", "style-src 'self'", "frame-ancestors 'none'", "object-src 'none'"]) {
        assert(csp.includes(d), `CSP lacks ${d}: ${csp}`);
      }
      assert(!/unsafe-(inline|eval)/.test(csp), `CSP allows unsafe-*: ${csp}`);
      assert(h['x-content-type-options'] === 'nosniff', 'no nosniff');
      assert(h['referrer-policy'], 'no Referrer-Policy');
      await a.getByRole('heading', { level: 1 }).first().waitFor();
      await capture(a, 'welcome');
      await a.goto(`${base}/signin`);
      await a.getByRole('heading', { name: 'Sign in' }).waitFor();
      await capture(a, 'signin');
    });

    await step('two people sign up', async () => {
      await a.goto(`${base}/signup`);
      await a.getByRole('heading', { name: 'Create your account' }).waitFor();
      await capture(a, 'signup');
      aliceId = await signUp(a, aliceName);
      bobId = await signUp(b, bobName);
      await capture(b, 'feed-empty');
    });

    await step('the token stays out of the page', async () => {
      const leaked = await a.evaluate(() => {
        const s = JSON.parse(sessionStorage.getItem('pixshare.session') ?? '{}');
        return !!s.token && (document.documentElement.outerHTML.includes(s.token) || document.cookie.includes(s.token) || Object.values(localStorage).some((v) => v.includes(s.token)));
      });
      assert(!leaked, 'the access token appears in the DOM, a cookie or localStorage');
    });

    await step('alice uploads a picture with a progress bar, then waits until it is ready', async () => {
      await a.goto(`${base}/upload`);
      await a.getByLabel('Picture', { exact: true }).setInputFiles(photo);
      await a.getByRole('img', { name: 'Preview of the chosen picture' }).waitFor();
      await a.getByLabel('Caption').fill(caption);
      await a.getByLabel('Tags', { exact: true }).fill('#Sunset, bay');
      await a.getByLabel('Alt text').fill(altText);
      await capture(a, 'upload');
      // A slow link, so the upload's progress can be seen.
      const cdp = await alice.context.newCDPSession(a);
      await cdp.send('Network.enable');
      await cdp.send('Network.emulateNetworkConditions', { offline: false, latency: 20, downloadThroughput: -1, uploadThroughput: 32 * 1024 });
      await a.getByRole('button', { name: 'Post' }).click();
      const bar = a.getByRole('progressbar', { name: /Uploading/ });
      await bar.waitFor();
      await capture(a, 'upload-progress');
      await cdp.send('Network.emulateNetworkConditions', { offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: -1 });
      await a.getByRole('heading', { name: 'Your picture is posted' }).waitFor({ timeout: 60_000 });
      const href = await a.getByRole('link', { name: 'View your post' }).getAttribute('href');
      postId = href.slice(3);
      await capture(a, 'upload-ready');
    });

    await step('bob finds alice by username', async () => {
      if (!f.userSearch) {
        // Without GET /v1/users?q= the journey goes on from her address.
        await b.goto(`${base}/u/${aliceId}`);
        throw new Skip('GET /v1/users?q= is not on this stack: opened the profile by its address');
      }
      await b.goto(`${base}/search`);
      await b.getByRole('combobox', { name: 'Search' }).fill(aliceName);
      await b.getByRole('button', { name: 'Search', exact: true }).click();
      await b.getByRole('link', { name: new RegExp(`@${aliceName}`) }).click();
      await b.getByRole('heading', { level: 1, name: new RegExp(aliceName) }).waitFor();
    });

    await step('bob follows alice', async () => {
      await b.getByRole('heading', { level: 1, name: new RegExp(aliceName) }).waitFor();
      await b.getByRole('button', { name: `Follow @${aliceName}` }).click();
      await b.getByRole('button', { name: `Following @${aliceName}`, pressed: true }).waitFor();
      await b.getByText('1 follower', { exact: true }).waitFor();
      // The grid shows her post, with its alt text.
      await b.getByRole('img', { name: postAlt }).waitFor();
      await capture(b, 'profile');
    });

    await step('bob sees the post in his feed', async () => {
      await nav(b, 'Home').click();
      await eventually('the post in the feed', async () => {
        if (await feedPost(b, postAlt).count()) return true;
        await b.reload();
        await b.getByRole('heading', { name: 'Your feed' }).waitFor();
        return (await feedPost(b, postAlt).count()) > 0;
      });
      const img = feedPost(b, postAlt).first();
      const srcset = await img.getAttribute('srcset');
      for (const size of ['small', 'medium']) assert(srcset?.includes(`size=${size}`), `srcset lacks ${size}: ${srcset}`);
      await capture(b, 'feed');
    });

    await step('bob likes the post', async () => {
      skipUnless(f.like, 'PUT /v1/posts/{id}/like is not on this stack');
      const card = b.getByRole('article').filter({ has: b.getByRole('img', { name: postAlt }) });
      await card.getByRole('button', { name: 'Like' }).click();
      await card.getByRole('button', { name: 'Like', pressed: true }).waitFor();
      await card.getByText('1 like', { exact: true }).waitFor();
      // Still liked when read again.
      await b.reload();
      await b.getByRole('article').filter({ has: b.getByRole('img', { name: postAlt }) }).getByRole('button', { name: 'Like', pressed: true }).waitFor();
    });

    await step('bob comments, edits his comment and deletes another', async () => {
      await b.getByRole('link', { name: postAlt }).first().click();
      await b.getByRole('heading', { level: 1, name: caption }).waitFor();
      await b.getByLabel('Add a comment').fill('What a view!');
      await b.getByRole('button', { name: 'Post comment' }).click();
      await b.getByText('What a view!', { exact: true }).waitFor();
      await b.getByLabel('Add a comment').fill('Typo, sorry');
      await b.getByRole('button', { name: 'Post comment' }).click();
      const typo = b.getByRole('listitem').filter({ hasText: 'Typo, sorry' });
      await typo.getByRole('button', { name: 'Delete comment' }).click();
      await typo.getByRole('button', { name: 'Yes, delete' }).click();
      await typo.waitFor({ state: 'detached' });
      const mine = b.getByRole('listitem').filter({ hasText: 'What a view!' });
      await mine.getByRole('button', { name: 'Edit comment' }).click();
      await b.getByLabel('Edit your comment').fill('What a view! Where is this?');
      await b.getByRole('button', { name: 'Save' }).click();
      await b.getByText('What a view! Where is this?', { exact: true }).waitFor();
      await b.getByRole('heading', { name: '1 comment' }).waitFor();
      // User text is text: markup in a comment is shown, not run.
      await b.getByLabel('Add a comment').fill('<img src=x onerror=alert(1)> <b>bold?</b>');
      await b.getByRole('button', { name: 'Post comment' }).click();
      await b.getByText('<img src=x onerror=alert(1)> <b>bold?</b>', { exact: true }).waitFor();
      assert((await b.locator('.comment-body img, .comment-body b').count()) === 0, 'comment markup was rendered as HTML');
      await capture(b, 'post');
    });

    await step('search autocomplete finds the tag', async () => {
      await nav(b, 'Search').click();
      const box = b.getByRole('combobox', { name: 'Search' });
      const option = b.getByRole('option', { name: /#sunset/ });
      await eventually('the #sunset suggestion', async () => {
        await box.fill('');
        await box.pressSequentially('#sun', { delay: 30 });
        await option.waitFor({ timeout: 3000 });
        return true;
      });
      await capture(b, 'search-suggestions');
      await box.press('ArrowDown');
      await b.getByRole('option', { name: /#sunset/, selected: true }).waitFor();
      await box.press('Enter');
      await b.waitForURL(/\/search\?q=%23sunset/);
      await b.getByRole('list', { name: 'Matching posts' }).getByRole('link').first().waitFor();
      await capture(b, 'search');
    });

    await step('public and tag timelines show the post', async () => {
      skipUnless(f.timelines && f.tagTimeline, 'GET /v1/timelines/public and /v1/timelines/tag/{tag} are not on this stack');
      await nav(b, 'Explore').click();
      await feedPost(b, postAlt).first().waitFor();
      await capture(b, 'explore');
      await b.goto(`${base}/tags/sunset`);
      await b.getByRole('heading', { level: 1, name: '#sunset' }).waitFor();
      await feedPost(b, postAlt).first().waitFor();
      await capture(b, 'tag');
    });

    await step('bob edits his profile in the settings', async () => {
      await nav(b, 'Settings').click();
      await b.getByLabel('Display name').fill('Bob B.');
      await b.getByLabel('Bio').fill('Sunsets and <b>sea</b>.');
      await b.getByRole('button', { name: 'Save profile' }).click();
      await b.getByText('Profile saved.').waitFor();
      await capture(b, 'settings');
    });

    await step('bob sets a profile picture', async () => {
      skipUnless(f.avatar, 'PUT /v1/users/me/avatar is not on this stack');
      await b.getByLabel('Choose a picture').setInputFiles(photo);
      await b.getByRole('button', { name: 'Save picture' }).click();
      await b.getByText('Picture updated.').waitFor({ timeout: 60_000 });
      await b.getByRole('main').locator('img.avatar').first().waitFor();
    });

    await step('bob changes his password with the current one, then signs in with the new one', async () => {
      skipUnless(f.currentPassword, 'PATCH /v1/users/me does not take current_password on this stack');
      const form = b.getByRole('form', { name: 'Password' });
      await form.getByLabel('Current password').fill('not my password');
      await form.getByLabel('New password', { exact: true }).fill(NEW_PASSWORD);
      await form.getByLabel('New password again').fill(NEW_PASSWORD);
      await form.getByRole('button', { name: 'Change password' }).click();
      await form.getByText("That isn't your current password.").waitFor();
      await form.getByLabel('Current password').fill(PASSWORD);
      await form.getByRole('button', { name: 'Change password' }).click();
      await b.getByRole('heading', { name: 'Sign in' }).waitFor();
      await b.getByText('Your password was changed').waitFor();
      bobPassword = NEW_PASSWORD;
      await b.getByLabel('Username or email').fill(bobName);
      await b.getByLabel('Password', { exact: true }).fill(bobPassword);
      await b.getByRole('button', { name: 'Sign in' }).click();
      await b.getByRole('heading', { name: 'Your feed' }).waitFor();
    });

    await step('bob signs out, then signs in with the keyboard alone', async () => {
      await b.getByRole('navigation', { name: 'Main' }).getByRole('button', { name: 'Sign out' }).click();
      await b.getByRole('heading', { name: 'Sign in' }).waitFor();
      await b.reload();
      await b.keyboard.press('Tab');
      const first = await b.evaluate(() => document.activeElement?.textContent?.trim());
      assert(first === 'Skip to content', `the first Tab stop is ${JSON.stringify(first)}, not the skip link`);
      await b.getByLabel('Username or email').focus();
      await b.keyboard.type(bobName);
      await b.keyboard.press('Tab');
      await b.keyboard.type(bobPassword);
      await b.keyboard.press('Enter');
      await b.getByRole('heading', { name: 'Your feed' }).waitFor();
    });

    await step('alice blocks bob from his comment, and everything hides at once', async () => {
      await a.goto(`${base}/p/${postId}`);
      const comment = a.getByRole('listitem').filter({ hasText: 'What a view! Where is this?' });
      await comment.getByRole('link').first().click();
      await a.getByRole('heading', { level: 1, name: new RegExp(bobName) }).waitFor();
      await a.getByRole('button', { name: `Block @${bobName}` }).click();
      await a.getByRole('button', { name: 'Yes, block' }).click();
      await a.getByRole('heading', { name: `You blocked @${bobName}` }).waitFor();
      await capture(a, 'blocked');
      // Bob: the post leaves his feed, its page, search and her profile.
      await eventually('the post hidden from bob everywhere', async () => {
        await b.goto(`${base}/`);
        await b.getByRole('heading', { name: 'Your feed' }).waitFor();
        await b.getByRole('main').locator('.empty, .load-more').first().waitFor();
        if (await feedPost(b, postAlt).count()) return false;
        await b.goto(`${base}/p/${postId}`);
        await b.getByRole('heading', { name: 'Post not available' }).waitFor({ timeout: 3000 });
        await b.goto(`${base}/u/${aliceId}`);
        await b.getByRole('heading', { name: 'Profile not available' }).waitFor({ timeout: 3000 });
        await b.goto(`${base}/search?q=${encodeURIComponent('#sunset')}`);
        await b.getByRole('heading', { name: /^Posts \(\d+\)$/ }).waitFor();
        return (await b.getByRole('list', { name: 'Matching posts' }).count()) === 0;
      }, 30_000, 1000);
      await capture(b, 'search-after-block');
      await b.goto(`${base}/p/${postId}`);
      await b.getByRole('heading', { name: 'Post not available' }).waitFor();
      await capture(b, 'post-hidden');
      // Alice no longer sees bob's comment under her own post.
      await a.goto(`${base}/p/${postId}`);
      await a.getByRole('heading', { level: 1, name: caption }).waitFor();
      await eventually("bob's comment hidden from alice", async () => {
        await a.reload();
        await a.getByRole('heading', { level: 1, name: caption }).waitFor();
        await a.getByRole('main').locator('.comment-form').waitFor();
        return (await a.getByText('What a view! Where is this?').count()) === 0;
      });
    });

    await step('alice unblocks bob from her settings', async () => {
      skipUnless(f.blocks, 'GET /v1/users/me/blocks is not on this stack');
      await nav(a, 'Settings').click();
      await a.getByRole('button', { name: `Unblock @${bobName}` }).click();
      await a.getByText("You haven't blocked anyone.").waitFor();
    });

    await step('alice deletes her account with her password', async () => {
      await nav(a, 'Settings').click();
      const form = a.getByRole('form', { name: 'Delete account' });
      await form.getByLabel('Current password').fill(PASSWORD);
      await form.getByLabel("I understand that this can't be undone").check();
      await capture(a, 'settings-delete');
      await form.getByRole('button', { name: 'Delete my account' }).click();
      await a.getByText('Your account was deleted.').waitFor();
    });

    await step('nothing broke the page or its policy', async () => {
      // Resources refused on purpose (404s of hidden posts) are the API's
      // answers, not the page's errors: only script errors and CSP count.
      const bad = consoleErrors.filter((e) => /CSP violation|uncaught|Content Security Policy|TrustedHTML|Trusted Type/i.test(e));
      assert(!bad.length, `errors in the page:\n${bad.join('\n')}`);
    });

    await alice.context.close();
    await bob.context.close();
  } finally {
    await browser.close();
  }
}

let failed = false;
try {
  await main();
} catch {
  failed = true;
}
const n = (s) => results.filter((r) => r.status === s).length;
console.log('');
for (const r of results.filter((x) => x.status === 'skipped')) console.log(`skipped: ${r.name}: ${r.why}`);
console.log(`screenshots: ${out}`);
console.log(`took ${((Date.now() - started) / 1000).toFixed(1)}s`);
console.log(`journey: ${n('passed')} passed, ${n('failed') + (failed && !n('failed') ? 1 : 0)} failed, ${n('skipped')} skipped`);
process.exit(failed || n('failed') ? 1 : 0);
