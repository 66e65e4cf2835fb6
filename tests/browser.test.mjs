// The demo clicked end to end in headless Chromium (Debian's, driven by playwright-core):
// the Worker in workerd with www/ as its assets, the mock Freedom ID as the provider.
// Screenshots of each step land in test-results/screenshots/ (git-ignored).
import { test, before, after, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { startMockFreedomId } from './support/mock-freedom-id.mjs';
import { freePort, startWorker, workingBindings } from './support/worker.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
const shots = path.join(root, 'test-results/screenshots');

let mock;
let worker;
let browser;
let page;

before(async () => {
  mkdirSync(shots, { recursive: true });
  mock = await startMockFreedomId();
  const port = await freePort();
  const origin = `http://127.0.0.1:${port}`;
  worker = await startWorker(workingBindings(mock, { FREEDOM_ID_REDIRECT_URI: `${origin}/callback` }), { port });
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
  await mock?.close();
});

beforeEach(async (t) => {
  mock.reset();
  await page?.context().close();
  const context = await browser.newContext({ viewport: { width: 1100, height: 800 } });
  page = await context.newPage();
  page.on('pageerror', (error) => assert.fail(`page error in ${t.name}: ${error.message}`));
});

const shot = (name) => page.screenshot({ path: path.join(shots, `${name}.png`), fullPage: true });
const signInLink = () => page.getByRole('link', { name: 'Sign in with Freedom ID' });

test('sign in: start page -> Freedom ID -> Continue -> callback shows the code', async () => {
  await page.goto(new URL('/', worker.url).href);
  await shot('1-start');
  await signInLink().click();
  await page.waitForURL(`${mock.origin}/login?**`);
  assert.equal(mock.requests.length, 1);
  await shot('2-freedom-id-sign-in');
  await page.getByRole('button', { name: 'Continue' }).click();
  await page.waitForURL('**/callback?**');
  const code = await page.locator('#authorization-code').textContent();
  assert.match(code, /^[0-9a-f]{32}$/);
  assert.equal(new URL(page.url()).searchParams.get('authorization_code'), code);
  assert.ok(await page.getByRole('link', { name: 'Sign in again' }).isVisible());
  await shot('3-callback-signed-in');
});

test('decline: the callback says sign-in was not completed', async () => {
  await page.goto(new URL('/', worker.url).href);
  await signInLink().click();
  await page.getByRole('button', { name: 'Decline' }).click();
  await page.waitForURL('**/callback?**');
  assert.equal(await page.locator('#error-code').textContent(), '100102');
  assert.equal(await page.locator('#authorization-code').count(), 0);
  await shot('4-callback-declined');
});

test('an upstream failure shows the HTML error page with a way to try again', async () => {
  mock.setMode('status:500');
  await page.goto(new URL('/', worker.url).href);
  const [response] = await Promise.all([page.waitForResponse('**/login'), signInLink().click()]);
  assert.equal(response.status(), 502);
  assert.equal(await page.locator('h1').textContent(), 'Freedom ID refused the sign-in request');
  assert.match(await page.locator('.code').textContent(), /UPSTREAM_STATUS/);
  // The error page is styled by the site's stylesheet.
  const background = await page.locator('main.card').evaluate((el) => getComputedStyle(el).backgroundColor);
  assert.notEqual(background, 'rgba(0, 0, 0, 0)');
  await shot('5-upstream-error');
  mock.setMode('ok');
  await page.getByRole('link', { name: 'Try again' }).click();
  await page.waitForURL(`${mock.origin}/login?**`);
});

test('keyboard only: the sign-in link is reachable with Tab and follows with Enter', async () => {
  await page.goto(new URL('/', worker.url).href);
  for (let i = 0; i < 10; i += 1) {
    await page.keyboard.press('Tab');
    if (await signInLink().evaluate((el) => el === document.activeElement)) break;
  }
  assert.ok(await signInLink().evaluate((el) => el === document.activeElement), 'Tab reaches the sign-in link');
  const outline = await signInLink().evaluate((el) => getComputedStyle(el).outlineStyle);
  assert.notEqual(outline, 'none', 'focus is visible');
  await shot('6-keyboard-focus');
  await page.keyboard.press('Enter');
  await page.waitForURL(`${mock.origin}/login?**`);
});

test('phone width: no sideways scrolling on the start and callback pages', async () => {
  await page.setViewportSize({ width: 320, height: 640 });
  const noOverflow = async (what) => {
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    assert.ok(overflow <= 0, `${what} overflows by ${overflow}px`);
  };
  await page.goto(new URL('/', worker.url).href);
  await noOverflow('start page');
  await shot('7-phone-start');
  await signInLink().click();
  await page.getByRole('button', { name: 'Continue' }).click();
  await page.waitForURL('**/callback?**');
  await page.locator('#authorization-code').waitFor();
  await noOverflow('callback page');
  await shot('8-phone-callback');
});

test('a return that this browser did not start is refused (login CSRF)', async () => {
  const forged = '/callback?authorization_code=0123456789abcdef0123456789abcdef&state=forged-by-attacker';
  const response = await page.goto(new URL(forged, worker.url).href);
  assert.equal(response.status(), 403);
  assert.equal(await page.locator('h1').textContent(), 'This sign-in was not started in this browser');
  assert.match(await page.locator('.code').textContent(), /STATE_MISMATCH/);
  assert.equal(await page.locator('#authorization-code').count(), 0);
  await shot('9-state-mismatch');
  // The way out works: a fresh sign-in from here succeeds.
  await page.getByRole('link', { name: 'Try again' }).click();
  await page.getByRole('button', { name: 'Continue' }).click();
  await page.waitForURL('**/callback?**');
  assert.match(await page.locator('#authorization-code').textContent(), /^[0-9a-f]{32}$/);
});

test('the state cookie is HttpOnly, scoped to the host, and gone after the return', async () => {
  await page.goto(new URL('/', worker.url).href);
  await signInLink().click();
  await page.waitForURL(`${mock.origin}/login?**`);
  const [cookie] = await page.context().cookies(worker.url.href);
  assert.equal(cookie.name, '__Host-freedom_id_state');
  assert.ok(cookie.httpOnly && cookie.secure && cookie.path === '/' && cookie.sameSite === 'Lax');
  assert.match(new URL(mock.requests[0] ? JSON.parse(mock.requests[0].body).redirect_uri : '').searchParams.get('state'), /^[\w-]{43}$/);
  await page.getByRole('button', { name: 'Continue' }).click();
  await page.waitForURL('**/callback?**');
  assert.deepEqual(await page.context().cookies(worker.url.href), []);
  assert.equal(await page.evaluate(() => document.cookie), '', 'scripts cannot read it');
});

test('the callback page never renders a crafted parameter as HTML, and stores nothing', async () => {
  // With the state check off, the page itself is what stands between a crafted link and the user.
  const open = await startWorker(workingBindings(mock, { FREEDOM_ID_STATE: 'off' }));
  try {
    await page.goto(new URL('/callback?authorization_code=%3Cimg%20src%3Dx%20onerror%3Dalert(1)%3E', open.url).href);
    assert.equal(await page.locator('img').count(), 0);
    assert.equal(await page.locator('#authorization-code').count(), 0, 'a value that is no code is not shown');
    assert.doesNotMatch(await page.locator('#result').textContent(), /onerror/);
    await page.goto(new URL('/callback?authorization_code=abc123', open.url).href);
    assert.equal(await page.locator('#authorization-code').textContent(), 'abc123');
    const stored = await page.evaluate(() => localStorage.length + sessionStorage.length + document.cookie.length);
    assert.equal(stored, 0);
  } finally {
    await open.close();
  }
});
