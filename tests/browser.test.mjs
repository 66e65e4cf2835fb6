// The demo clicked end to end in headless Chromium (Debian's, driven by playwright-core):
// the Worker in workerd with www/ as its assets, the mock Freedom ID as the provider.
// Sign-ins complete in the Worker (/callback -> sealed session cookie -> 303 to /); the start
// page reads GET /session. Screenshots of each step land in test-results/screenshots/
// (git-ignored). Chromium treats http://127.0.0.1 as a secure context, so the Worker's
// `Secure` `__Host-` cookies work here as on https. One file: one Chromium, one Worker and one
// mock serve the whole demo, each test a visit a user makes.
import { describe, test, before, after, beforeEach, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { DEMO_USER, startMockFreedomId } from './support/mock-freedom-id.mjs';
import { freePort, startWorker, workingBindings } from './support/worker.mjs';
import { startDemoApp } from './support/demo-app.mjs';
import { packAndInstall } from './support/runtimes.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
const shots = path.join(root, 'test-results/screenshots');

const SESSION_COOKIE = '__Host-freedom_id_session';
const FLOW_PREFIX = '__Host-freedom_id_flow_';
const SIGNED_IN = /You.re signed in/;
const SIGNED_OUT = /You.re not signed in/;

let mock;
let demoApp; // the site behind the gate: /members, verifying the gate's assertion with the packed package
let worker;
let verifyGateAssertion; // the packed npm package's
let packageDir; // where it is installed
let assertionKey; // the Worker's FREEDOM_ID_ASSERTION_KEY (a P-256 private JWK made here)
let browser;
let context;
let page;
let problems; // page errors and CSP violations seen during the current test

before(async () => {
  mkdirSync(shots, { recursive: true });
  mock = await startMockFreedomId();
  packageDir = mkdtempSync(path.join(tmpdir(), 'freedom-id-edge-demo-'));
  packAndInstall(packageDir, [], ['--offline']);
  ({ verifyGateAssertion } = createRequire(path.join(packageDir, 'package.json'))('freedom-id-edge'));
  const pair = await crypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, true, ['sign']);
  const { kty, crv, x, y, d } = await crypto.subtle.exportKey('jwk', pair.privateKey);
  assertionKey = JSON.stringify({ kty, crv, x, y, d, kid: 'browser-test' });
  // The demo site must know the Worker's origin (the issuer) before the Worker knows the site's.
  const port = await freePort();
  demoApp = await startDemoApp({ verifyGateAssertion, worker: `http://127.0.0.1:${port}` });
  worker = await startWorker(
    workingBindings(mock, { FREEDOM_ID_PROTECT: '/members', FREEDOM_ID_APP_ORIGIN: demoApp.url, FREEDOM_ID_ASSERTION_KEY: assertionKey }),
    { port },
  );
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM_PATH || '/usr/bin/chromium',
    // Root in a container, and a machine with no network but loopback.
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync'],
  });
});

after(async () => {
  await browser?.close();
  await worker?.close();
  await demoApp?.close();
  await mock?.close();
  if (packageDir) rmSync(packageDir, { recursive: true, force: true });
});

/** A fresh browser context (no cookies) and its first page, watched for errors. */
async function newContext(options = {}) {
  await context?.close();
  context = await browser.newContext({ viewport: { width: 1100, height: 800 }, ...options });
  page = await watchedPage();
  return page;
}

async function watchedPage() {
  const opened = await context.newPage();
  opened.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
  opened.on('console', (message) => {
    if (message.type() === 'error' && /Content.Security.Policy/i.test(message.text())) {
      problems.push(`CSP: ${message.text()}`);
    }
  });
  return opened;
}

beforeEach(async () => {
  mock.reset();
  problems = [];
  await newContext();
});

afterEach(() => {
  assert.deepEqual(problems, [], 'no page errors or CSP violations');
});

const at = (pathname) => new URL(pathname, worker.url).href;
const shot = (name, on = page) => on.screenshot({ path: path.join(shots, `${name}.png`), fullPage: true });
const signInLink = (on = page) => on.getByRole('link', { name: 'Sign in with Freedom ID' });
const signOutButton = (on = page) => on.getByRole('button', { name: 'Sign out' });
const onMock = (on = page) => on.waitForURL(`${mock.origin}/login?**`);
const onStartPage = (on = page) => on.waitForURL((url) => url.href === at('/'));

async function expectSignedIn(on = page) {
  await on.getByText(SIGNED_IN).waitFor();
  assert.equal(await signInLink(on).count(), 0, 'no sign-in link while signed in');
  assert.ok(await signOutButton(on).isVisible(), 'Sign out is shown');
  assert.equal(await on.locator('#status').getAttribute('aria-busy'), 'false');
}

async function expectSignedOut(on = page) {
  await on.getByText(SIGNED_OUT).waitFor();
  assert.ok(await signInLink(on).isVisible(), 'the sign-in link is shown');
  assert.equal(await signOutButton(on).count(), 0, 'no Sign out while signed out');
  assert.equal(await on.locator('#status-error').isVisible(), false, 'no error');
}

/** The access token's expiry as the page shows it (its <time datetime>), in unix seconds. */
async function shownAccessExpiry(on = page) {
  return Date.parse(await on.locator('#access-expires').getAttribute('datetime')) / 1000;
}

async function cookies(on = page) {
  return on.context().cookies(worker.url.href);
}

async function sessionCookie(on = page) {
  return (await cookies(on)).find((c) => c.name === SESSION_COOKIE);
}

/**
 * No authorization code (32 hex) nor token (128 alphanumerics) in the page's text, scripts cannot
 * read a cookie, nothing is stored; on the start page (`landed`) the URL carries no code either.
 * (An error page at /callback has the code in its own address: that is where Freedom ID sent it.)
 */
async function assertNothingSecretShown(on = page, { landed = true } = {}) {
  const text = await on.locator('body').innerText();
  if (landed) assert.doesNotMatch(on.url(), /authorization_code|state=/, 'the landing URL carries no code or state');
  assert.doesNotMatch(text, /\b[0-9a-f]{32}\b/, 'no code on the page');
  assert.doesNotMatch(text, /[A-Za-z0-9]{128}/, 'no token on the page');
  assert.equal(await on.evaluate(() => document.cookie), '', 'scripts cannot read the cookies');
  const stored = await on.evaluate(() => localStorage.length + sessionStorage.length);
  assert.equal(stored, 0, 'nothing in web storage');
}

/** Start page -> Freedom ID mock -> Continue -> back on the start page, signed in. */
async function signIn(on = page, { screenshots } = {}) {
  await on.goto(at('/'));
  await expectSignedOut(on);
  if (screenshots) await shot(screenshots[0], on);
  await signInLink(on).click();
  await onMock(on);
  if (screenshots) await shot(screenshots[1], on);
  await on.getByRole('button', { name: 'Continue' }).click();
  await onStartPage(on);
  await expectSignedIn(on);
}

/**
 * Sign out with the start page's form (by `press`: a click, or Enter on the focused button):
 * POST /logout must answer 303 to / and the start page then shows "signed out".
 */
async function signOut(on = page, press = () => signOutButton(on).click()) {
  const [response] = await Promise.all([
    on.waitForResponse((r) => new URL(r.url()).pathname === '/logout'),
    press(),
  ]);
  const request = response.request();
  const sent = await request.allHeaders();
  const body = response.status() === 303 ? '' : (await response.text()).replace(/\s+/g, ' ');
  assert.equal(response.status(), 303,
    `POST /logout from the start page's own form (Origin: ${sent.origin}, Sec-Fetch-Site: ${sent['sec-fetch-site']}) ` +
    `should be 303 to /, got ${response.status()} ${/[A-Z_]{6,}/.exec(body)?.[0] ?? body.slice(0, 80)}`);
  assert.equal(request.method(), 'POST');
  await onStartPage(on);
}

const tokenRequests = (method) => mock.requests.filter((r) => r.endpoint === 'token' && r.method === method);

test('sign in, reload, sign out: the start page follows the session', async () => {
  await signIn(page, { screenshots: ['01-start-signed-out', '02-freedom-id-sign-in'] });
  assert.equal(tokenRequests('POST').length, 1, 'the Worker exchanged the code once');
  await assertNothingSecretShown();
  const expiry = await shownAccessExpiry();
  const now = Date.now() / 1000;
  assert.ok(expiry > now + 3500 && expiry < now + 3700, `access expiry shown about an hour ahead: ${expiry - now}s`);
  assert.match(await page.locator('#access-expires-in').textContent(), /in (60 minutes|1 hour)/);
  assert.ok((await page.locator('#refresh-expires').textContent()).trim().length > 0, 'session end is shown');
  await shot('03-signed-in');

  await page.reload();
  await expectSignedIn();
  assert.equal(tokenRequests('PATCH').length, 0, 'a fresh access token needs no refresh');
  await shot('04-signed-in-after-reload');

  await signOut();
  await expectSignedOut();
  assert.equal(await sessionCookie(), undefined, 'the session cookie is gone');
  const answer = await page.request.get(at('/session'));
  assert.deepEqual(await answer.json(), { signedIn: false });
  await shot('05-signed-out');
});

test('the members area behind the gate: signed out it sends you to sign in and back; signed in it shows the site', async () => {
  await page.goto(at('/members'));
  await onMock();
  await page.getByRole('button', { name: 'Continue' }).click();
  await page.waitForURL((url) => url.href === at('/members'));
  await page.getByRole('heading', { name: 'Members area' }).waitFor();
  // The site verified the gate's assertion; this Worker knows no user, so the subject is the token pair.
  const sub = (await page.locator('#sub').textContent()).trim();
  assert.match(sub, /^[0-9a-f-]{36}$/, 'the site learned who passed from the assertion');
  assert.equal((await page.locator('#sid').textContent()).trim(), sub, 'sub is the token pair without a user');
  assert.equal(await page.locator('#welcome').textContent(), `Welcome, ${sub}`);
  assert.match(await page.locator('#expires').textContent(), /UTC$/);
  // Straight to the site, without the gate, plain identity headers are no pass.
  const straight = await fetch(new URL('/members', demoApp.url), { headers: { 'x-freedom-id-user-id': DEMO_USER.id, 'x-freedom-id-token-id': sub } });
  assert.equal(straight.status, 401);
  assert.match(await straight.text(), /Not signed in/);
  await assertNothingSecretShown();
  await shot('24-members-area');
  await page.getByRole('link', { name: 'Back to the start page' }).click();
  await onStartPage();
  await expectSignedIn();
  await page.getByRole('link', { name: 'Open the members area' }).click();
  await page.getByRole('heading', { name: 'Members area' }).waitFor();
  await page.goto(at('/'));
  await signOut();
  await expectSignedOut();
  await page.goto(at('/members'));
  await onMock();
  await shot('25-members-area-signed-out-goes-to-sign-in');
});

test('the flow and session cookies are HttpOnly, Secure, host-only and Lax; the flow cookie ends with the sign-in', async () => {
  await page.goto(at('/'));
  await signInLink().click();
  await onMock();
  const [flow] = await cookies();
  assert.ok(flow.name.startsWith(FLOW_PREFIX), flow.name);
  assert.ok(flow.httpOnly && flow.secure && flow.path === '/' && flow.sameSite === 'Lax', JSON.stringify(flow));
  const state = new URL(JSON.parse(mock.requests[0].body).redirect_uri).searchParams.get('state');
  assert.match(state, /^[\w-]{43}$/);
  assert.equal(flow.name, FLOW_PREFIX + state.slice(0, 16), 'the flow cookie is named after its state');
  assert.doesNotMatch(flow.value, new RegExp(state), 'the state is sealed, not stored in the clear');

  await page.getByRole('button', { name: 'Continue' }).click();
  await onStartPage();
  await expectSignedIn();
  const after = await cookies();
  assert.deepEqual(after.map((c) => c.name), [SESSION_COOKIE], 'only the session cookie is left');
  const [session] = after;
  assert.ok(session.httpOnly && session.secure && session.path === '/' && session.sameSite === 'Lax',
    JSON.stringify(session));
  assert.equal(session.domain, '127.0.0.1', 'host-only');
});

test('decline: a SIGN_IN_DECLINED page (403) with a way to try again', async () => {
  await page.goto(at('/'));
  await signInLink().click();
  await onMock();
  const [response] = await Promise.all([
    page.waitForResponse((r) => new URL(r.url()).pathname === '/callback'),
    page.getByRole('button', { name: 'Decline' }).click(),
  ]);
  assert.equal(response.status(), 403);
  assert.equal(await page.locator('h1').textContent(), 'Sign-in was cancelled');
  assert.match(await page.locator('.code').textContent(), /SIGN_IN_DECLINED/);
  assert.equal(tokenRequests('POST').length, 0, 'nothing to exchange');
  assert.equal(await sessionCookie(), undefined);
  await shot('06-declined');
  await page.getByRole('link', { name: 'Try again' }).click();
  await onMock();
});

test('a forged callback is refused (STATE_MISMATCH, 403) and its code is never spent', async () => {
  const code = mock.issueCode();
  const forged = `/callback?state=forged-by-attacker-0123456789abcdefghijklmn&authorization_code=${code}`;
  const response = await page.goto(at(forged));
  assert.equal(response.status(), 403);
  assert.equal(await page.locator('h1').textContent(), 'This sign-in was not started in this browser');
  assert.match(await page.locator('.code').textContent(), /STATE_MISMATCH/);
  assert.ok(await page.getByRole('link', { name: 'Try again' }).isVisible());
  assert.doesNotMatch(await page.locator('body').innerText(), new RegExp(code), 'the code is not shown');
  assert.deepEqual(mock.codeStatus(code), { known: true, spent: false, expired: false });
  assert.equal(tokenRequests('POST').length, 0, 'no exchange was attempted');
  assert.equal(await sessionCookie(), undefined);
  await shot('07-forged-callback-state-mismatch');

  // Also while a genuine sign-in is under way in this browser: the wrong state still loses,
  // and the genuine sign-in is unharmed.
  await page.getByRole('link', { name: 'Try again' }).click();
  await onMock();
  const second = mock.issueCode();
  const again = await page.goto(at(`/callback?state=another-forgery&authorization_code=${second}`));
  assert.equal(again.status(), 403);
  assert.equal(mock.codeStatus(second).spent, false);
  await page.goBack();
  await onMock();
  await page.getByRole('button', { name: 'Continue' }).click();
  await onStartPage();
  await expectSignedIn();
});

test('two tabs signing in at once both land signed in', async () => {
  const first = page;
  const second = await watchedPage();
  for (const tab of [first, second]) {
    await tab.goto(at('/'));
    await expectSignedOut(tab);
    await signInLink(tab).click();
    await onMock(tab);
  }
  const flows = (await cookies()).filter((c) => c.name.startsWith(FLOW_PREFIX));
  assert.equal(flows.length, 2, 'each tab has its own flow cookie');
  await shot('08-two-tabs-second-at-freedom-id', second);
  for (const tab of [first, second]) {
    await tab.getByRole('button', { name: 'Continue' }).click();
    await onStartPage(tab);
    await expectSignedIn(tab);
  }
  assert.equal(tokenRequests('POST').length, 2, 'both codes were exchanged');
  await shot('09-two-tabs-first-signed-in', first);
  await shot('10-two-tabs-second-signed-in', second);
  await first.reload();
  await expectSignedIn(first);
});

test('an access token about to expire is refreshed silently on reload', async () => {
  mock.setTokenLifetimes({ accessTtlSeconds: 30 });
  await signIn();
  const before = await shownAccessExpiry();
  const now = Date.now() / 1000;
  assert.ok(before > now && before <= now + 31, `the short access token is shown: ${before - now}s left`);
  assert.match(await page.locator('#access-expires-in').textContent(), /in \d+ seconds/);
  const cookieBefore = (await sessionCookie()).value;
  const refreshes = tokenRequests('PATCH').length;
  await shot('11-short-lived-token-signed-in');

  // Expiry times are whole seconds: wait past the next one so a renewal must show.
  await page.waitForTimeout(1100);
  await page.reload();
  await expectSignedIn();
  assert.ok(tokenRequests('PATCH').length > refreshes, 'the Worker refreshed with a PATCH');
  const afterReload = await shownAccessExpiry();
  assert.ok(afterReload > before, `the expiry shown moved on: ${before} -> ${afterReload}`);
  assert.notEqual((await sessionCookie()).value, cookieBefore, 'the renewed session is a new sealed cookie');
  assert.equal(await page.locator('#status-error').isVisible(), false);
  await assertNothingSecretShown();
  await shot('12-short-lived-token-refreshed');
});

test('a tampered session cookie means signed out, without an error', async () => {
  await signIn();
  const session = await sessionCookie();
  const middle = Math.floor(session.value.length / 2);
  const flipped = session.value[middle] === 'A' ? 'B' : 'A';
  const tampered = session.value.slice(0, middle) + flipped + session.value.slice(middle + 1);
  // A domain without a leading dot is a host-only cookie (CDP refuses `url` with `secure` on http).
  await page.context().addCookies([{
    name: SESSION_COOKIE, value: tampered, domain: '127.0.0.1', path: '/', secure: true, httpOnly: true, sameSite: 'Lax',
  }]);
  const now = (await cookies()).filter((c) => c.name === SESSION_COOKIE);
  assert.deepEqual(now.map((c) => c.value), [tampered], 'the one session cookie was overwritten');
  const [response] = await Promise.all([
    page.waitForResponse((r) => new URL(r.url()).pathname === '/session'),
    page.reload(),
  ]);
  assert.equal(response.status(), 200);
  assert.deepEqual(await response.json(), { signedIn: false });
  await expectSignedOut();
  assert.equal(await sessionCookie(), undefined, 'the unusable cookie was cleared');
  await shot('13-tampered-cookie-signed-out');
});

test('an upstream failure at /login shows the HTML error page with a way to try again', async () => {
  mock.setMode('status:500');
  await page.goto(at('/'));
  const [response] = await Promise.all([page.waitForResponse('**/login'), signInLink().click()]);
  assert.equal(response.status(), 502);
  assert.equal(await page.locator('h1').textContent(), 'Freedom ID answered with an error');
  assert.match(await page.locator('.code').textContent(), /UPSTREAM_STATUS/);
  // The error page is styled by the site's stylesheet.
  const background = await page.locator('main.card').evaluate((el) => getComputedStyle(el).backgroundColor);
  assert.notEqual(background, 'rgba(0, 0, 0, 0)');
  await shot('14-upstream-error-login');
  mock.setMode('ok');
  await page.getByRole('link', { name: 'Try again' }).click();
  await onMock();
});

test('a token endpoint outage at /callback shows an error page, and a reload completes the sign-in', async () => {
  mock.setTokenMode('status:503');
  await page.goto(at('/'));
  await signInLink().click();
  await onMock();
  const [response] = await Promise.all([
    page.waitForResponse((r) => new URL(r.url()).pathname === '/callback'),
    page.getByRole('button', { name: 'Continue' }).click(),
  ]);
  assert.equal(response.status(), 502);
  assert.match(await page.locator('.code').textContent(), /UPSTREAM_STATUS/);
  assert.ok(await page.getByRole('link', { name: 'Try again' }).isVisible());
  assert.equal(await sessionCookie(), undefined);
  await assertNothingSecretShown(page, { landed: false });
  await shot('15-upstream-error-callback');
  // The code was not spent and the flow cookie stays: once Freedom ID is back, a reload works.
  mock.setTokenMode('ok');
  await page.reload();
  await onStartPage();
  await expectSignedIn();
});

test('while /session answers the page says so, and if it fails the page says that', async () => {
  let release;
  const held = new Promise((resolve) => { release = resolve; });
  await page.route('**/session', async (route) => {
    await held;
    await route.fulfill({ status: 503, contentType: 'application/json', body: '{}' });
  });
  await page.goto(at('/'));
  await page.getByText(/Checking whether you.re signed in/).waitFor();
  assert.equal(await page.locator('#status').getAttribute('aria-busy'), 'true');
  await shot('16-session-loading');
  release();
  await page.getByText(/couldn.t check whether you.re signed in/).waitFor();
  assert.equal(await signInLink().count(), 0);
  await shot('17-session-failed');

  await page.unroute('**/session');
  await page.getByRole('button', { name: 'Check again' }).click();
  await expectSignedOut();
  assert.ok(await page.locator('#status-signed-out .status-title').evaluate((el) => el === document.activeElement),
    'focus follows the answer after Check again');
});

test('keyboard only: sign in with Tab and Enter, then sign out the same way', async () => {
  await page.goto(at('/'));
  await expectSignedOut();
  const tabTo = async (locator, what, on = page) => {
    for (let i = 0; i < 15; i += 1) {
      if (await locator.evaluate((el) => el === document.activeElement)) break;
      await on.keyboard.press('Tab');
    }
    assert.ok(await locator.evaluate((el) => el === document.activeElement), `Tab reaches ${what}`);
  };
  await tabTo(signInLink(), 'the sign-in link');
  assert.notEqual(await signInLink().evaluate((el) => getComputedStyle(el).outlineStyle), 'none', 'focus is visible');
  await shot('18-keyboard-focus-sign-in');
  await page.keyboard.press('Enter');
  await onMock();
  await tabTo(page.getByRole('button', { name: 'Continue' }), 'Continue');
  await page.keyboard.press('Enter');
  await onStartPage();
  await expectSignedIn();
  await tabTo(signOutButton(), 'Sign out');
  assert.notEqual(await signOutButton().evaluate((el) => getComputedStyle(el).outlineStyle), 'none', 'focus is visible');
  await shot('19-keyboard-focus-sign-out');
  await signOut(page, () => page.keyboard.press('Enter'));
  await expectSignedOut();
});

test('phone width (320 px): no sideways scrolling, signed out, signed in, or on an error page', async () => {
  await page.setViewportSize({ width: 320, height: 640 });
  const noOverflow = async (what) => {
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    assert.ok(overflow <= 0, `${what} overflows by ${overflow}px`);
  };
  await page.goto(at('/'));
  await expectSignedOut();
  await noOverflow('start page, signed out');
  await shot('20-phone-signed-out');
  await signInLink().click();
  await page.getByRole('button', { name: 'Continue' }).click();
  await onStartPage();
  await expectSignedIn();
  await noOverflow('start page, signed in');
  await shot('21-phone-signed-in');
  await page.goto(at('/callback?state=forged&authorization_code=0123456789abcdef0123456789abcdef'));
  await noOverflow('error page');
  await shot('22-phone-error-page');
});

test('without JavaScript: signing in and out still work through plain links and forms', async () => {
  await newContext({ javaScriptEnabled: false });
  await page.goto(at('/'));
  assert.ok(await signInLink().isVisible());
  assert.ok(await signOutButton().isVisible());
  assert.equal(await page.getByText(/Checking whether/).isVisible(), false, 'no endless "Checking..."');
  await shot('23-no-javascript');
  await signInLink().click();
  await page.getByRole('button', { name: 'Continue' }).click();
  await onStartPage();
  assert.ok(await sessionCookie(), 'signed in: the session cookie is set');
  await signOut();
  assert.equal(await sessionCookie(), undefined, 'signed out: the session cookie is gone');
});

test('the old callback page is gone and the start page script is served', async () => {
  for (const gone of ['/callback-page', '/callback-page.html', '/callback.js', '/callback.html']) {
    const response = await page.goto(at(gone));
    assert.equal(response.status(), 404, gone);
  }
  const script = await page.request.get(at('/app.js'));
  assert.equal(script.status(), 200);
  assert.match(script.headers()['content-type'], /javascript/);
  const start = await page.request.get(at('/'));
  assert.match(start.headers()['content-security-policy'], /default-src 'self'/);
  assert.doesNotMatch(await start.text(), /<script>|<style|style="/, 'no inline scripts or styles');
});

// The pages in Kazakh, Russian and English.
import { readFileSync } from 'node:fs';

/**
 * A language table, src/web/i18n/<lang>.rs, as { key: text }: the very texts the Worker renders
 * (Rust escapes \u{...}, \" and \\ undone).
 */
function i18nTexts(lang) {
  const source = readFileSync(path.join(root, `src/web/i18n/${lang}.rs`), 'utf8');
  const texts = {};
  for (const [, key, raw] of source.matchAll(/\(\s*"([^"]+)",\s*"((?:[^"\\]|\\.)*)"\s*,?\s*\)/g)) {
    texts[key] = raw.replace(/\\u\{([0-9a-fA-F]+)\}|\\(.)/g, (_, hex, char) => (hex ? String.fromCodePoint(parseInt(hex, 16)) : char));
  }
  assert.ok(Object.keys(texts).length > 60, `read the ${lang} table`);
  return texts;
}

/** The page (and the response that brought it) is in `lang`, with `t` its texts. */
async function expectLanguage(response, lang, t, { start = true } = {}) {
  assert.equal(await page.locator('html').getAttribute('lang'), lang, 'the <html lang>');
  const headers = response.headers();
  assert.equal(headers['content-language'], lang, 'Content-Language');
  assert.match(headers.vary ?? '', /Accept-Language/, 'Vary names Accept-Language');
  if (start) {
    assert.equal(await page.locator('h1').textContent(), t['start.title']);
    assert.equal(await page.title(), t['start.title']);
    assert.equal(await page.locator('.languages [aria-current="true"]').getAttribute('lang'), lang, 'the switcher marks it');
  }
}

async function expectSignedOutIn(t) {
  await page.getByText(t['start.signed_out'], { exact: true }).waitFor();
  assert.ok(await page.getByRole('link', { name: t['start.sign_in'], exact: true }).isVisible(), 'the sign-in link');
  assert.equal(await page.getByRole('button', { name: t['start.sign_out'], exact: true }).count(), 0);
}

async function expectSignedInIn(t, lang) {
  const title = page.locator('#status-signed-in .status-title');
  await title.waitFor();
  assert.equal((await title.innerText()).replace(/^\u2713\s*/, ''), t['start.signed_in']);
  assert.ok(await page.getByRole('button', { name: t['start.sign_out'], exact: true }).isVisible(), 'Sign out');
  assert.deepEqual(await page.locator('.facts dt').allTextContents(), [t['start.access_expires'], t['start.session_until']]);
  assert.ok(await page.getByRole('link', { name: t['start.members_link'], exact: true }).isVisible());
  // The times are written by the browser's Intl in the page's language; a browser without
  // Kazakh data (this Debian Chromium) gets Russian on a Kazakh page, as app.js decides.
  const relative = await page.locator('#access-expires-in').textContent();
  const expected = await page.evaluate((tag) => {
    const probe = new Date(2020, 10, 15);
    const month = (l) => new Intl.DateTimeFormat(l, { month: 'long' }).format(probe);
    const bare = month('kk') === month('und') || /^M\d+$/.test(month('kk')) ||
      /^\+/.test(new Intl.RelativeTimeFormat('kk').format(1, 'hour'));
    const locale = tag === 'kk' && bare ? 'ru' : tag;
    const format = new Intl.RelativeTimeFormat(locale, { numeric: 'auto' });
    return [format.format(1, 'hour'), ...[60, 59, 58, 57].map((n) => format.format(n, 'minute'))];
  }, lang);
  assert.ok(expected.some((text) => relative === `(${text})`), `relative time in ${lang}: ${relative}, not one of ${expected}`);
  if (lang !== 'kk') assert.match(relative, lang === 'ru' ? /через \d+ минут|через 1 час/ : /in (\d+ minutes|1 hour)/);
  return relative;
}

async function signInIn(t, lang) {
  await page.getByRole('link', { name: t['start.sign_in'], exact: true }).click();
  await onMock();
  await page.getByRole('button', { name: 'Continue' }).click();
  await onStartPage();
  await expectSignedInIn(t, lang);
}

/** A forged callback: the STATE_MISMATCH page in `lang`. */
async function forgedCallbackIn(t, lang) {
  const response = await page.goto(at('/callback?state=forged&authorization_code=x'));
  assert.equal(response.status(), 403);
  await expectLanguage(response, lang, t, { start: false });
  assert.equal(await page.locator('h1').textContent(), t['title.STATE_MISMATCH']);
  assert.equal(await page.title(), t['title.STATE_MISMATCH']);
  assert.equal(await page.locator('main > p').first().textContent(), t['detail.state_mismatch']);
  assert.equal(await page.locator('.code').textContent(), `${t['page.error_code']}: STATE_MISMATCH (HTTP 403)`);
  assert.ok(await page.getByRole('link', { name: t['page.try_again'], exact: true }).isVisible());
}

async function langCookie() {
  return (await cookies()).find((c) => c.name === 'lang')?.value;
}

test('each language once: Kazakh from Accept-Language, Russian and English by ?lang= (kept in a cookie), German falls back to English', async () => {
  const [kk, ru, en] = ['kk', 'ru', 'en'].map(i18nTexts);

  // Kazakh, as a browser set to kk-KZ asks for it.
  await newContext({ locale: 'kk-KZ' });
  let response = await page.goto(at('/'));
  assert.match(await response.request().headerValue('accept-language'), /^kk-KZ/);
  await expectLanguage(response, 'kk', kk);
  await expectSignedOutIn(kk);
  assert.equal(await langCookie(), undefined, 'no cookie without a choice');
  await shot('30-kk-start');
  await signInIn(kk, 'kk');
  await assertNothingSecretShown();
  await shot('31-kk-signed-in');
  await forgedCallbackIn(kk, 'kk');
  await shot('32-kk-error');

  // ?lang=ru switches to Russian and the lang cookie keeps it, over Accept-Language: kk.
  response = await page.goto(at('/?lang=ru'));
  await expectLanguage(response, 'ru', ru);
  assert.match(await response.headerValue('set-cookie') ?? '', /^lang=ru; Path=\/;/);
  assert.equal(await langCookie(), 'ru');
  await expectSignedInIn(ru, 'ru');
  await shot('34-ru-signed-in');
  response = await page.goto(at('/'));
  assert.match(await response.request().headerValue('accept-language'), /^kk-KZ/);
  await expectLanguage(response, 'ru', ru);
  await signOut(page, () => page.getByRole('button', { name: ru['start.sign_out'], exact: true }).click());
  assert.equal(await page.locator('html').getAttribute('lang'), 'ru', 'back from /logout, still Russian');
  await expectSignedOutIn(ru);
  await shot('33-ru-start');
  await signInIn(ru, 'ru');
  await forgedCallbackIn(ru, 'ru');
  await shot('35-ru-error');

  // ?lang=en, the same way.
  response = await page.goto(at('/?lang=en'));
  await expectLanguage(response, 'en', en);
  assert.equal(await langCookie(), 'en');
  await expectSignedInIn(en, 'en');
  await expectSignedIn();
  await shot('37-en-signed-in');
  await signOut();
  await expectLanguage(await page.reload(), 'en', en);
  await expectSignedOut();
  await shot('36-en-start');
  await forgedCallbackIn(en, 'en');
  await shot('38-en-error');

  // A language the pages are not written in: English.
  await newContext({ locale: 'de-DE' });
  response = await page.goto(at('/'));
  assert.match(await response.request().headerValue('accept-language'), /^de-DE/);
  await expectLanguage(response, 'en', en);
  await expectSignedOut();
  await shot('39-de-falls-back-to-en');
  await forgedCallbackIn(en, 'en');
});

test('phone width (320 px) in Kazakh and Russian: the longer texts wrap, nothing scrolls sideways', async () => {
  const [kk, ru] = ['kk', 'ru'].map(i18nTexts);
  await newContext({ locale: 'kk-KZ', viewport: { width: 320, height: 640 } });
  const noOverflow = async (what) => {
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    assert.ok(overflow <= 0, `${what} overflows by ${overflow}px`);
  };
  await expectLanguage(await page.goto(at('/')), 'kk', kk);
  await expectSignedOutIn(kk);
  await noOverflow('Kazakh start page, signed out');
  await shot('40-kk-phone-start');
  await signInIn(kk, 'kk');
  await noOverflow('Kazakh start page, signed in');
  await shot('41-kk-phone-signed-in');
  await forgedCallbackIn(kk, 'kk');
  await noOverflow('Kazakh error page');
  await shot('42-kk-phone-error');
  await expectLanguage(await page.goto(at('/?lang=ru')), 'ru', ru);
  await expectSignedInIn(ru, 'ru');
  await noOverflow('Russian start page, signed in');
  await shot('43-ru-phone-signed-in');
  await forgedCallbackIn(ru, 'ru');
  await noOverflow('Russian error page');
  await shot('44-ru-phone-error');
});

// Who signed in: the start page greets the user by name (or by id) in each flavour and language.
// Workers of their own, all on the one mock: oauth2 with the user-info URL; oidc with the
// user-info URL and the mock's key set (the id_token's signature checked); oidc with neither, the
// name coming from the id_token's claims (grants read.firstname, read.lastname). The file's
// `worker` is oauth2 without the user-info URL: the user is unknown there. Cookies are per host,
// not per port, so each test signs in at one Worker only (every test has a fresh context).
describe('who signed in: the greeting in each flavour and each language', () => {
  const oidcBindings = (overrides = {}) => workingBindings(mock, {
    FREEDOM_ID_PROTOCOL: 'oidc',
    FREEDOM_ID_OIDC_AUTHORIZE_URL: mock.oidcAuthorizeUrl,
    FREEDOM_ID_OIDC_TOKEN_URL: mock.oidcTokenUrl,
    FREEDOM_ID_ISSUER: mock.issuer,
    ...overrides,
  });
  const flavours = {}; // name -> { worker, protocol }

  before(async () => {
    const [oauth2, oidc, oidcClaims] = await Promise.all([
      startWorker(workingBindings(mock, { FREEDOM_ID_USERINFO_URL: mock.userInfoUrl })),
      startWorker(oidcBindings({ FREEDOM_ID_USERINFO_URL: mock.userInfoUrl, FREEDOM_ID_JWKS_URL: mock.jwksUrl })),
      startWorker(oidcBindings({ FREEDOM_ID_GRANTS: 'openid read.firstname read.lastname' })),
    ]);
    Object.assign(flavours, {
      oauth2: { worker: oauth2, protocol: 'oauth2' },
      oidc: { worker: oidc, protocol: 'oidc' },
      'oidc-claims': { worker: oidcClaims, protocol: 'oidc' },
      'oauth2-no-userinfo': { worker, protocol: 'oauth2' },
    });
  });

  after(async () => {
    await Promise.all(['oauth2', 'oidc', 'oidc-claims'].map((name) => flavours[name]?.worker.close()));
  });

  const DEMO_NAME = 'Aida Seitkali';
  const atOn = (w, pathname) => new URL(pathname, w.url).href;
  const landedOn = (w, on = page) => on.waitForURL((url) => url.href === atOn(w, '/'));
  const onOidcPage = (on = page) => on.waitForURL(`${mock.origin}/openid?**`);
  const greeting = (on = page) => on.locator('#signed-in-as');
  const openidVisits = () => mock.requests.filter((r) => r.endpoint === 'openid');
  const count = (endpoint, method = 'POST') => mock.requests.filter((r) => r.endpoint === endpoint && r.method === method).length;

  /** Start page -> the mock's page (Continue in oauth2, Allow in oidc) -> back on the start page, signed in. */
  async function signInWith(flavour, { screenshot } = {}) {
    const { worker: w, protocol } = flavours[flavour];
    await page.goto(atOn(w, '/'));
    await expectSignedOut();
    await signInLink().click();
    if (protocol === 'oidc') {
      await onOidcPage();
      if (screenshot) await shot(screenshot);
      await page.getByRole('button', { name: 'Allow' }).click();
    } else {
      await onMock();
      if (screenshot) await shot(screenshot);
      await page.getByRole('button', { name: 'Continue' }).click();
    }
    await landedOn(w);
    await expectSignedIn();
    await assertNothingSecretShown();
  }

  /** The greeting shows `name` in the template of `t`, visible, on one line or wrapped but never clipped. */
  async function expectGreeting(t, name) {
    const expected = t['start.signed_in_as'].replace('{name}', name);
    await page.getByText(expected, { exact: true }).waitFor();
    assert.ok(await greeting().isVisible(), 'the greeting is visible');
    assert.equal(await greeting().innerText(), expected);
    const box = await greeting().evaluate((el) => ({
      clipped: el.scrollWidth > el.clientWidth || el.scrollHeight > el.clientHeight,
      inCard: el.getBoundingClientRect().right <= el.closest('main').getBoundingClientRect().right,
    }));
    assert.deepEqual(box, { clipped: false, inCard: true }, `"${expected}" fits`);
  }

  async function expectNoGreeting() {
    assert.equal(await greeting().isVisible(), false, 'no greeting for an unknown user');
    assert.equal((await greeting().textContent()).trim(), '');
  }

  async function sessionUser(w) {
    const body = await (await page.request.get(atOn(w, '/session'))).json();
    assert.equal(body.signedIn, true);
    return body.user;
  }

  /** Signed in at `flavour`'s Worker: the greeting in English, Kazakh (?lang=kk) and Russian (?lang=ru), a screenshot each. */
  async function greetingInEachLanguage(flavour, name, { shotPrefix = `greeting-${flavour}`, absent = false } = {}) {
    const { worker: w } = flavours[flavour];
    for (const lang of ['en', 'kk', 'ru']) {
      const t = i18nTexts(lang);
      const response = await page.goto(atOn(w, `/?lang=${lang}`));
      await expectLanguage(response, lang, t);
      await expectSignedInIn(t, lang);
      if (absent) await expectNoGreeting();
      else await expectGreeting(t, name);
      await shot(`${shotPrefix}-${lang}`);
    }
  }

  test('oauth2 with the user-info URL: "Signed in as Aida Seitkali" in English, Kazakh and Russian', async () => {
    await signInWith('oauth2');
    assert.equal(count('userinfo', 'GET'), 1, 'the Worker asked for the profile once');
    const user = await sessionUser(flavours.oauth2.worker);
    assert.equal(user.id, DEMO_USER.id);
    assert.equal(user.firstname, 'Aida');
    assert.equal(user.lastname, 'Seitkali');
    assert.equal(user.cards, undefined, 'fields outside the profile are dropped');
    await greetingInEachLanguage('oauth2', DEMO_NAME);
    await page.reload();
    await expectGreeting(i18nTexts('ru'), DEMO_NAME);
    assert.equal(count('userinfo', 'GET'), 1, 'the profile is kept in the session, not fetched again');
  });

  test('oidc with the user-info URL and the key set: Allow, then the greeting in each language', async () => {
    await signInWith('oidc', { screenshot: 'oidc-authorization-page' });
    assert.equal(count('authorize'), 0, '/login built the OIDC link itself');
    assert.equal(count('oidc-token'), 1, 'one exchange at the OIDC token URL');
    assert.equal(count('userinfo', 'GET'), 1, 'the Worker asked for the profile once');
    const [visit] = openidVisits();
    const query = new URLSearchParams(visit.query);
    assert.deepEqual([...query.keys()].sort(), ['client_id', 'nonce', 'redirect_uri', 'response_type', 'scope', 'state']);
    assert.equal(query.get('redirect_uri'), atOn(flavours.oidc.worker, '/callback'), 'the redirect URI as set');
    const user = await sessionUser(flavours.oidc.worker);
    assert.equal(user.id, DEMO_USER.id, 'the id is the id_token\'s sub');
    assert.equal(`${user.firstname} ${user.lastname}`, DEMO_NAME);
    await greetingInEachLanguage('oidc', DEMO_NAME);
  });

  test('oidc without the user-info URL: the name from the id_token\'s claims, in each language', async () => {
    await signInWith('oidc-claims');
    assert.equal(count('userinfo', 'GET'), 0, 'no user-info call without its URL');
    const user = await sessionUser(flavours['oidc-claims'].worker);
    assert.deepEqual(user, { id: DEMO_USER.id, firstname: 'Aida', lastname: 'Seitkali' }, 'what the id_token carried');
    await greetingInEachLanguage('oidc-claims', DEMO_NAME);
  });

  test('oauth2 without the user-info URL: the user is unknown and there is no greeting, in any language', async () => {
    await signInWith('oauth2-no-userinfo');
    assert.equal(count('userinfo', 'GET'), 0);
    assert.equal(await sessionUser(worker), null, '"user": null');
    await greetingInEachLanguage('oauth2-no-userinfo', null, { absent: true, shotPrefix: 'no-greeting-oauth2-no-userinfo' });
  });

  test('a user without a name is greeted by id, in both flavours, and it wraps at phone width', async () => {
    const id = 'c0ffee00-1111-4222-8333-444455556666';
    mock.setUser({ id, email: 'noname@example.com' });
    const en = i18nTexts('en');
    const kk = i18nTexts('kk');
    for (const flavour of ['oauth2', 'oidc']) {
      await newContext();
      await signInWith(flavour);
      assert.deepEqual(await sessionUser(flavours[flavour].worker), { id, email: 'noname@example.com' });
      await expectGreeting(en, id);
      await shot(`greeting-id-${flavour}-en`);
    }
    // The id is one long word: at 320 px (Kazakh, the longest template) it wraps inside the card.
    await page.setViewportSize({ width: 320, height: 640 });
    await page.goto(atOn(flavours.oidc.worker, '/?lang=kk'));
    await expectGreeting(kk, id);
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    assert.ok(overflow <= 0, `the page overflows by ${overflow}px`);
    await shot('greeting-id-oidc-kk-phone');
    await page.locator('#status-signed-in').screenshot({ path: path.join(shots, 'greeting-id-oidc-kk-phone-panel.png') });
  });

  test('names in Kazakh and Cyrillic letters are shown as they are, in both flavours', async () => {
    // Kazakh letters (Ә, і, қ, ұ) outside Russian's alphabet, and a name that is only a first name.
    mock.setUser({ id: '5a1e0c2d-7b3f-4e8a-9c6d-1f2e3a4b5c6d', firstname: 'Әйгерім', lastname: 'Сейітқұлова' });
    await signInWith('oidc');
    await expectGreeting(i18nTexts('en'), 'Әйгерім Сейітқұлова');
    await greetingInEachLanguage('oidc', 'Әйгерім Сейітқұлова', { shotPrefix: 'greeting-kazakh-name-oidc' });

    // A whole-number id, a first name and an empty last name: the greeting is the first name alone.
    await newContext();
    mock.setUser({ id: 77, firstname: 'Дмитрий', lastname: '' });
    await signInWith('oauth2');
    const user = await sessionUser(flavours.oauth2.worker);
    assert.equal(user.id, '77', 'a numeric id arrives as a string');
    await expectGreeting(i18nTexts('en'), 'Дмитрий');
    await expectLanguage(await page.goto(atOn(flavours.oauth2.worker, '/?lang=ru')), 'ru', i18nTexts('ru'));
    await expectGreeting(i18nTexts('ru'), 'Дмитрий');
    await shot('greeting-first-name-only-oauth2-ru');
  });

  test('oidc: Decline shows the SIGN_IN_DECLINED page, and Try again starts a new sign-in', async () => {
    const { worker: w } = flavours.oidc;
    await page.goto(atOn(w, '/'));
    await signInLink().click();
    await onOidcPage();
    const [response] = await Promise.all([
      page.waitForResponse((r) => new URL(r.url()).pathname === '/callback'),
      page.getByRole('button', { name: 'Decline' }).click(),
    ]);
    assert.equal(response.status(), 403);
    assert.match(new URL(response.url()).search, /error=access_denied/);
    assert.equal(await page.locator('h1').textContent(), 'Sign-in was cancelled');
    assert.match(await page.locator('.code').textContent(), /SIGN_IN_DECLINED/);
    assert.equal(count('oidc-token'), 0, 'nothing to exchange');
    assert.equal(count('userinfo', 'GET'), 0);
    assert.equal(await sessionCookie(), undefined, 'not signed in');
    await assertNothingSecretShown(page, { landed: false });
    await shot('oidc-declined');

    await page.getByRole('link', { name: 'Try again' }).click();
    await onOidcPage();
    const [first, second] = openidVisits().map((v) => new URLSearchParams(v.query));
    assert.ok(second, 'Try again went back to the OIDC page');
    assert.notEqual(second.get('state'), first.get('state'), 'a new state');
    assert.notEqual(second.get('nonce'), first.get('nonce'), 'a new nonce');
    await page.getByRole('button', { name: 'Allow' }).click();
    await landedOn(w);
    await expectSignedIn();
    await expectGreeting(i18nTexts('en'), DEMO_NAME);
    await shot('oidc-signed-in-after-decline');
  });
});

// Who may pass (issue 22): a Worker with the user-info call, the assertion key and
// FREEDOM_ID_ALLOW in front of a demo site of its own, which verifies the assertion with the
// packed package and greets the user by name. An account the rules refuse sees the
// ACCESS_DENIED page in its language, and "Sign in with another account" starts over.
describe('the members area greets the user the assertion names; an account the allow-list refuses sees ACCESS_DENIED', () => {
  const MALLORY = { id: '0b0b0b0b-1111-4222-8333-444455556666', firstname: 'Mallory', lastname: 'Outsider', email: 'mallory@elsewhere.kz' };
  let site;
  let gate;

  before(async () => {
    const port = await freePort();
    site = await startDemoApp({ verifyGateAssertion, worker: `http://127.0.0.1:${port}` });
    gate = await startWorker(workingBindings(mock, {
      FREEDOM_ID_PROTECT: '/members',
      FREEDOM_ID_APP_ORIGIN: site.url,
      FREEDOM_ID_USERINFO_URL: mock.userInfoUrl,
      FREEDOM_ID_ASSERTION_KEY: assertionKey,
      FREEDOM_ID_ALLOW: `${DEMO_USER.email} @partner.kz`,
    }), { port });
  });

  after(async () => {
    await gate?.close();
    await site?.close();
  });

  const atGate = (pathname) => new URL(pathname, gate.url).href;

  /** /members -> the mock's sign-in page -> Continue -> back at /members; the response that brought the page. */
  async function openMembers() {
    await page.goto(atGate('/members'));
    await onMock();
    const [response] = await Promise.all([
      page.waitForResponse((r) => new URL(r.url()).pathname === '/members'),
      page.getByRole('button', { name: 'Continue' }).click(),
    ]);
    await page.waitForURL((url) => url.href === atGate('/members'));
    return response;
  }

  async function expectWelcome(name, id) {
    await page.getByRole('heading', { name: 'Members area' }).waitFor();
    assert.equal(await page.locator('#welcome').textContent(), `Welcome, ${name}`);
    assert.equal((await page.locator('#sub').textContent()).trim(), id, "sub: the user's id");
    assert.match((await page.locator('#sid').textContent()).trim(), /^[0-9a-f-]{36}$/, "sid: the token pair's id");
    await assertNothingSecretShown();
  }

  test('signed in as an allowed user, the members area says "Welcome, Aida Seitkali"', async () => {
    const response = await openMembers();
    assert.equal(response.status(), 200);
    await expectWelcome('Aida Seitkali', DEMO_USER.id);
    await shot('members-area-welcome');
  });

  test('a refused account sees ACCESS_DENIED in Kazakh, Russian and English, with Sign out and Sign in with another account', async () => {
    for (const [locale, lang] of [['kk-KZ', 'kk'], ['ru-RU', 'ru'], ['en-US', 'en']]) {
      const t = i18nTexts(lang);
      await newContext({ locale });
      mock.setUser(MALLORY);
      const response = await openMembers();
      assert.equal(response.status(), 403, lang);
      await expectLanguage(response, lang, t, { start: false });
      assert.equal(await page.title(), t['title.ACCESS_DENIED']);
      assert.equal(await page.locator('h1').textContent(), t['title.ACCESS_DENIED']);
      assert.equal(await page.locator('main > p').first().textContent(), t['detail.access_denied']);
      assert.match(await page.locator('.code').textContent(), /ACCESS_DENIED \(HTTP 403\)/);
      assert.equal((await page.locator('#sign-out').textContent()).trim(), t['start.sign_out']);
      assert.equal((await page.locator('#sign-in-again').textContent()).trim(), t['page.sign_in_again']);
      assert.ok(await page.locator('#sign-out').isVisible() && await page.locator('#sign-in-again').isVisible(), 'both buttons shown');
      const text = await page.locator('body').innerText();
      for (const value of [MALLORY.email, MALLORY.id, MALLORY.firstname]) assert.ok(!text.includes(value), 'nothing of the user on the page');
      await shot(`access-denied-${lang}`);
      mock.reset();
    }
    // The last one (English): another account, on the page that was refused.
    // The form posts to /logout?then=login, whose 303 to /login goes on to Freedom ID: the
    // page's CSP (form-action) must allow that whole chain, or the browser stops it.
    await page.locator('#sign-in-again').click();
    await page.waitForURL(`${mock.origin}/login?**`, { timeout: 5000 }).catch(() => {
      assert.fail(`"Sign in with another account" did not reach Freedom ID's sign-in page (at ${page.url()}): ${JSON.stringify(problems)}`);
    });
    assert.equal((await cookies()).find((c) => c.name === SESSION_COOKIE && c.domain === '127.0.0.1'), undefined, 'signed out first');
    await shot('access-denied-sign-in-again-at-freedom-id');
    const [back] = await Promise.all([
      page.waitForResponse((r) => new URL(r.url()).pathname === '/members'),
      page.getByRole('button', { name: 'Continue' }).click(),
    ]);
    await page.waitForURL((url) => url.href === atGate('/members'));
    assert.equal(back.status(), 200);
    await expectWelcome('Aida Seitkali', DEMO_USER.id);
    await shot('access-denied-then-welcome');
  });

  test('"Sign out" on the ACCESS_DENIED page lands on the start page, signed out', async () => {
    mock.setUser(MALLORY);
    assert.equal((await openMembers()).status(), 403);
    await Promise.all([page.waitForURL((url) => url.href === atGate('/')), page.locator('#sign-out').click()]);
    await expectSignedOut();
  });
});
