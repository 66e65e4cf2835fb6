// A browser, in small, for the workerd tests that drive the Worker over HTTP (session, gate and
// logs tests): the Worker's cookie names, requests with a cookie jar (support/jar.mjs), the mock
// Freedom ID's sign-in page clicked through, the checks every answer shape gets, and the secret
// values a test file sees (none may reach a log line or an answer).
//
//   const secrets = new Secrets([CLIENT_SECRET]);
//   const call = (worker, path, options) => send(worker, path, { secrets, ...options });
//   const { startSignIn, decide, finish } = signInSteps({ mock: () => mock, call, secrets });
import assert from 'node:assert/strict';

/** The Worker's cookies: the sealed session, the dead marker, the flow cookies (one per sign-in). */
export const SESSION = '__Host-freedom_id_session';
export const DEAD = '__Host-freedom_id_dead';
export const FLOW_PREFIX = '__Host-freedom_id_flow_';
/** The attributes every cookie of the Worker's is set with. */
export const ATTRIBUTES = 'Path=/; HttpOnly; Secure; SameSite=Lax';
/** What a browser's navigation sends as Accept. */
export const BROWSER_ACCEPT = 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8';

/** Every secret value a test file has seen (tokens, codes, states, cookie values, ...). */
export class Secrets extends Set {
  /** Adds each string of 8 characters or more: shorter ones could match ordinary words. */
  remember(...values) {
    for (const value of values) if (typeof value === 'string' && value.length >= 8) this.add(value);
  }
}

/**
 * One request to `worker`, with `jar`'s cookies (or `cookie`); the answer's Set-Cookie lines go
 * into the jar unless `apply` is false, and their values into `secrets`. A ReadableStream `body`
 * is sent chunked. Answers `{status, headers, bytes, body (as text), setCookies}`.
 */
export async function send(worker, path, { method = 'GET', jar, cookie, accept, headers = {}, body, apply = true, secrets } = {}) {
  const sent = { ...headers };
  const cookieHeader = cookie ?? jar?.header();
  if (cookieHeader) sent.cookie = cookieHeader;
  if (accept) sent.accept = accept;
  const init = { method, redirect: 'manual', headers: sent };
  if (body !== undefined) {
    init.body = body;
    if (body instanceof ReadableStream) init.duplex = 'half';
  }
  const response = await fetch(new URL(path, worker.url), init);
  const bytes = Buffer.from(await response.arrayBuffer());
  const setCookies = response.headers.getSetCookie();
  for (const line of setCookies) secrets?.remember(/^[^=]+=([^;]*)/.exec(line)[1]);
  if (jar && apply) jar.apply(setCookies);
  return { status: response.status, headers: response.headers, bytes, body: bytes.toString('utf8'), setCookies };
}

/** The Set-Cookie line for cookie `name`, if any (at most one). */
export function setCookieFor(answer, name) {
  const lines = answer.setCookies.filter((line) => line.startsWith(`${name}=`));
  assert.ok(lines.length <= 1, `one Set-Cookie for ${name} at most: ${JSON.stringify(answer.setCookies)}`);
  return lines[0];
}

export function assertCleared(answer, name) {
  assert.equal(setCookieFor(answer, name), `${name}=; ${ATTRIBUTES}; Max-Age=0`, `${name} cleared: ${JSON.stringify(answer.setCookies)}`);
}

/** An application/problem+json answer with `code` and `status`, never a redirect; the problem. */
export function assertProblem(answer, code, status) {
  assert.equal(answer.status, status, `${code}: ${answer.body}`);
  assert.equal(answer.headers.get('content-type'), 'application/problem+json', `${code}: content-type`);
  assert.equal(answer.headers.get('location'), null, 'an error never redirects');
  const problem = JSON.parse(answer.body);
  assert.deepEqual(Object.keys(problem).sort(), ['code', 'detail', 'status', 'title', 'type']);
  assert.equal(problem.code, code);
  assert.equal(problem.status, status);
  assert.equal(problem.type, `urn:freedom-id-edge:error:${code}`);
  return problem;
}

/** The HTML error page a browser gets for `code`. */
export function assertHtmlProblem(answer, code, status) {
  assert.equal(answer.status, status, answer.body);
  assert.equal(answer.headers.get('content-type'), 'text/html; charset=utf-8');
  assert.match(answer.body, new RegExp(`<code>${code}</code>`));
}

/**
 * The steps of a sign-in through the mock's page, made with `call` (a test file's request) and
 * remembering into `secrets` what they see; `mock()` is the file's mock Freedom ID.
 */
export function signInSteps({ mock, call, secrets }) {
  return {
    /**
     * GET /login (with `returnTo`, and `options` for `call`) like a browser: 302 to the mock's
     * sign-in page, a flow cookie set. Answers the link, the state (as sent to Freedom ID in the
     * redirect URI), the flow cookie's name and the answer.
     */
    async startSignIn(worker, jar, { returnTo, ...options } = {}) {
      const before = mock().requests.length;
      const query = returnTo === undefined ? '' : `?return_to=${encodeURIComponent(returnTo)}`;
      const answer = await call(worker, `/login${query}`, { jar, ...options });
      assert.equal(answer.status, 302, answer.body);
      const link = new URL(answer.headers.get('location'));
      assert.equal(link.origin, mock().origin);
      secrets.remember(link.searchParams.get('track_id'));
      const authorize = mock().requests.slice(before).filter((r) => r.endpoint === 'authorize');
      assert.equal(authorize.length, 1);
      const redirectUri = new URL(JSON.parse(authorize[0].body).redirect_uri);
      assert.equal(`${redirectUri.origin}${redirectUri.pathname}`, `${worker.origin}/callback`);
      const state = redirectUri.searchParams.get('state');
      assert.match(state, /^[A-Za-z0-9_-]{32,}$/);
      secrets.remember(state);
      return { link, state, flowName: `${FLOW_PREFIX}${state.slice(0, 16)}`, answer };
    },

    /** The mock's sign-in page: GET the link, POST the decision; answers the callback URL it sends back to. */
    async decide(link, decision = 'continue') {
      const page = await fetch(link);
      assert.equal(page.status, 200);
      const trackId = link.searchParams.get('track_id');
      assert.match(await page.text(), new RegExp(`name="track_id" value="${trackId}"`));
      const answer = await fetch(new URL('/login/decide', link), {
        method: 'POST',
        redirect: 'manual',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ track_id: trackId, decision }).toString(),
      });
      assert.equal(answer.status, 303);
      const back = new URL(answer.headers.get('location'));
      secrets.remember(back.searchParams.get('authorization_code'), back.searchParams.get('error_code'));
      return back;
    },

    /** Follows the mock's redirect back to the Worker's /callback, with the jar's cookies. */
    finish(worker, jar, back, options = {}) {
      return call(worker, `${back.pathname}${back.search}`, { jar, ...options });
    },
  };
}
