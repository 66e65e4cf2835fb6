// What bench/run.mjs and bench/profile.mjs share on the workerd side: the helper processes (mock
// Freedom ID, the site behind the gate), the Workers in Miniflare configured as the tests
// configure them (tests/support/workerd-config.mjs: wrangler.toml's compatibility date, www/ and
// its _headers, the test deployments' settings), the routes as load scenarios with their inputs
// made ahead (codes, flow and session cookies sealed with WebCrypto by tests/support/seal.mjs,
// exactly as the Workers seal them), a keep-alive HTTP client, and workerd's CPU time from /proc.
import { spawn } from 'node:child_process';
import { webcrypto } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { FLOW_PREFIX, SESSION } from '../tests/support/client.mjs';
import { DEMO_USER, PROFILE_FIELDS } from '../tests/support/mock-freedom-id.mjs';
import { seal as sealWith, unseal } from '../tests/support/seal.mjs';
import { CLIENT_ID, freePort, rustWorker, workerdOptions, workingBindings } from '../tests/support/workerd-config.mjs';

export { COMPATIBILITY_DATE, freePort } from '../tests/support/workerd-config.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
export const rel = (...parts) => path.join(root, ...parts);
export const SESSION_SECRET = 'bench-session-secret-0123456789abcdef';
export const GUARDED_PATH = '/members/page?x=1';

// ---------------------------------------------------------------------------------------------
// Helper processes

/** Starts `script` with this Node; resolves its first stdout line (JSON) and a close(). */
export async function startChild(script) {
  const child = spawn(process.execPath, [rel(script)], { cwd: root, stdio: ['pipe', 'pipe', 'inherit'] });
  const info = await new Promise((resolve, reject) => {
    let buffered = '';
    child.stdout.setEncoding('utf8').on('data', (chunk) => {
      buffered += chunk;
      const newline = buffered.indexOf('\n');
      if (newline !== -1) resolve(JSON.parse(buffered.slice(0, newline)));
    });
    child.on('error', reject);
    child.on('exit', (code) => reject(new Error(`${script} exited early (${code})`)));
  });
  const exited = new Promise((resolve) => child.once('exit', resolve));
  return {
    ...info,
    pid: child.pid,
    close: async () => {
      child.stdin.end();
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** POSTs to the mock's control server (bench/mock-server.mjs), `params` in the query; resolves the JSON answer. */
export function control(mock, what, n, params = {}) {
  return new Promise((resolve, reject) => {
    const query = new URLSearchParams({ n: String(n), ...params });
    const request = http.request(`${mock.control}/${what}?${query}`, { method: 'POST' }, (response) => {
      let text = '';
      response.setEncoding('utf8').on('data', (chunk) => { text += chunk; });
      response.on('end', () => (response.statusCode === 200 ? resolve(JSON.parse(text)) : reject(new Error(`control ${what}: ${response.statusCode} ${text}`))));
    });
    request.on('error', reject);
    request.end();
  });
}

// ---------------------------------------------------------------------------------------------
// The Workers in Miniflare

/**
 * The [assets] routing of a wrangler.toml, as wrangler hands it to workerd: `run_worker_first`
 * true -> invoke_user_worker_ahead_of_assets; a list -> static_routing (user_worker rules, `!/`
 * rules for the asset worker). Absent: the asset router looks every request up first.
 */
export function assetRouting(wranglerToml) {
  const text = existsSync(wranglerToml) ? readFileSync(wranglerToml, 'utf8') : '';
  const block = /^\[assets\]\n([\s\S]*?)(?=^\[|(?![\s\S]))/m.exec(text)?.[1] ?? '';
  const value = /^run_worker_first\s*=\s*(.+)$/m.exec(block)?.[1]?.trim();
  if (!value) return { routerConfig: {}, describe: 'no `run_worker_first` (the asset router looks every request up first)' };
  const parsed = JSON.parse(value);
  if (typeof parsed === 'boolean') return { routerConfig: { invoke_user_worker_ahead_of_assets: parsed }, describe: `\`run_worker_first = ${parsed}\`` };
  const user = parsed.filter((rule) => rule.startsWith('/'));
  const asset = parsed.filter((rule) => rule.startsWith('!/')).map((rule) => rule.slice(1));
  return {
    routerConfig: { static_routing: { user_worker: user, ...(asset.length ? { asset_worker: asset } : {}) } },
    describe: `\`run_worker_first = ${JSON.stringify(parsed)}\``,
  };
}

/**
 * The bindings every Worker gets (the null one ignores them): the tests' working ones, guarding
 * /members, and the user-info call (README.md, "Who signed in"), so that /callback learns who
 * signed in and the session, /session and the gate carry the user, as a deployment that knows
 * its users has it.
 */
export function bindings(origin, mock, site) {
  return workingBindings(mock, {
    FREEDOM_ID_REDIRECT_URI: `${origin}/callback`,
    FREEDOM_ID_SESSION_SECRET: SESSION_SECRET,
    FREEDOM_ID_TIMEOUT_MS: '5000',
    FREEDOM_ID_PROTECT: '/members',
    FREEDOM_ID_APP_ORIGIN: site.url,
    // The JS twin forwards the access token: ours does the same work (issue 22 made it opt-in).
    FREEDOM_ID_FORWARD_ACCESS_TOKEN: 'on',
    FREEDOM_ID_USERINFO_URL: mock.userInfoUrl,
  });
}

/**
 * What a Worker in the OIDC flavour gets on top of `bindings()` (README.md, "Who signed in"):
 * `/login` builds the authorization URL at the mock's `/openid` itself, with no upstream call;
 * `/callback` calls the mock's OIDC token endpoint and checks the id_token, its signature with
 * the mock's key set. The user comes from the id_token's claims alone: the user-info call is
 * unset (an empty setting is an unset one). The grants (tests/support/workerd-config.mjs)
 * already hold `openid`; the state is on by default.
 */
export function oidcBindings(mock) {
  return {
    FREEDOM_ID_PROTOCOL: 'oidc',
    FREEDOM_ID_OIDC_AUTHORIZE_URL: mock.oidcAuthorizeUrl,
    FREEDOM_ID_OIDC_TOKEN_URL: mock.oidcTokenUrl,
    FREEDOM_ID_ISSUER: mock.issuer,
    FREEDOM_ID_JWKS_URL: mock.jwksUrl,
    FREEDOM_ID_USERINFO_URL: '',
  };
}

/**
 * The `FREEDOM_ID_ALLOW` of the gate that signs its assertion: a phone rule the bench's user does
 * not match, then her email's domain, so every forwarded request reads both of her fields and
 * runs both rules before it passes.
 */
export const ALLOW_RULES = `+77000000000 @${DEMO_USER.email.split('@')[1]}`;

/**
 * What a gate that signs its assertion gets on top of `bindings()`: a fixed P-256 key (public
 * test material, never a deployment's), so both Workers sign ES256 on every forwarded request,
 * and the allow rules both check first.
 */
export function assertionBindings() {
  return {
    FREEDOM_ID_ALLOW: ALLOW_RULES,
    FREEDOM_ID_ASSERTION_KEY: JSON.stringify({
      kty: 'EC', crv: 'P-256', kid: 'bench-key',
      x: 'f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU',
      y: 'x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0',
      d: 'jpsQnnGQmL-YBIffH1136cspYG6-0iY7X1fCE9-E9LI',
    }),
  };
}

/**
 * The Workers a route may name besides `rust`, `js`, `null` and `direct`: the same Rust build
 * and the same JS twin, each started once more with `oidcBindings()`.
 */
export function extraWorkerSpecs(context) {
  const vars = oidcBindings(context.mock);
  return {
    'rust-oidc': { name: 'rust-oidc', impl: 'rust', art: context.art, vars },
    'js-oidc': { name: 'js-oidc', impl: 'js', vars },
    'rust-assert': { name: 'rust-assert', impl: 'rust', art: context.art, vars: assertionBindings() },
    'js-assert': { name: 'js-assert', impl: 'js', vars: assertionBindings() },
  };
}

/**
 * Miniflare options for `kind`: `rust` (the artifacts' build/), `js` (bench/js-worker) or `null`
 * (a 302 without calling anyone: workerd's own floor). Same compatibility date, bindings,
 * assets (www/ with its _headers) and asset routing for all; `vars` (e.g. `oidcBindings()`) on
 * top of the bindings.
 */
export function workerOptions(kind, { art, port, mock, site, routing, inspectorPort, vars = {} }) {
  const common = {
    ...workerdOptions({
      port,
      bindings: { ...bindings(`http://127.0.0.1:${port}`, mock, site), ...vars },
      routerConfig: routing.routerConfig,
      handleRuntimeStdio(stdout, stderr) {
        stdout.resume();
        stderr.resume();
      },
    }),
    ...(inspectorPort ? { inspectorPort } : {}),
  };
  switch (kind) {
    case 'rust':
      return { ...common, ...rustWorker(art.build) };
    case 'js':
      return { ...common, scriptPath: rel('bench/js-worker/worker.js'), modulesRoot: rel('bench/js-worker') };
    case 'null':
      return {
        ...common,
        script: `export default { fetch() { return new Response(null, { status: 302, headers: {
          Location: ${JSON.stringify(`${mock.origin}/login?track_id=00000000-0000-0000-0000-000000000000&expire_at=0`)},
          'Cache-Control': 'no-store' } }); } };`,
      };
    default:
      throw new Error(kind);
  }
}

let MiniflareClass;
/**
 * A running Worker: {kind, impl, mf, url, origin, port, pid, agent}. `spec` is an implementation
 * (`rust`, `js`, `null`) or {name, impl, art, routing}: a variant with its own build/ and
 * [assets] routing (bench/run.mjs BENCH_VARIANTS).
 */
export async function startWorker(spec, context, { maxSockets = 16, inspectorPort } = {}) {
  const { name, impl, ...own } = typeof spec === 'string' ? { name: spec, impl: spec } : spec;
  MiniflareClass ??= (await import('miniflare')).Miniflare;
  const port = await freePort();
  const before = workerdChildren();
  const mf = new MiniflareClass(workerOptions(impl, { ...context, ...own, port, inspectorPort }));
  const worker = { kind: name, impl, mf, port, agent: new http.Agent({ keepAlive: true, maxSockets }) };
  try {
    worker.url = await mf.ready;
  } catch (error) {
    await mf.dispose().catch(() => {});
    throw error;
  }
  worker.origin = `http://127.0.0.1:${port}`;
  const added = [...workerdChildren()].filter((pid) => !before.has(pid));
  worker.pid = added.length === 1 ? added[0] : undefined;
  worker.close = async () => {
    worker.agent.destroy();
    await mf.dispose();
  };
  return worker;
}

// ---------------------------------------------------------------------------------------------
// CPU time of workerd (Miniflare starts one process per instance, as our child)

const CLOCK_TICKS_PER_SECOND = 100; // `getconf CLK_TCK` on Linux

/** PIDs of our workerd children. */
export function workerdChildren() {
  const pids = new Set();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const match = /^\d+ \((.*)\) \S (\d+)/.exec(readFileSync(`/proc/${entry}/stat`, 'utf8'));
      if (match && match[1] === 'workerd' && Number(match[2]) === process.pid) pids.add(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  return pids;
}

/** utime + stime of `pid` in ms, or NaN when unknown. */
export function cpuMs(pid) {
  if (!pid) return NaN;
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /s, '').split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS_PER_SECOND;
  } catch {
    return NaN;
  }
}

// ---------------------------------------------------------------------------------------------
// Sealed cookies, made as the Workers make them (tests/support/seal.mjs, as src/session/seal.rs),
// with the benchmark's session secret.

const seal = (name, plaintext) => sealWith(SESSION_SECRET, name, plaintext);
const nowSecs = () => Math.floor(Date.now() / 1000);
const unix = (iso) => Math.floor(Date.parse(iso) / 1000);

/** The user as both Workers keep her after the user-info call: her id and the ten profile fields. */
export const BENCH_USER = Object.freeze(Object.fromEntries([['id', DEMO_USER.id], ...PROFILE_FIELDS.map((field) => [field, DEMO_USER[field]])]));

/**
 * A sealed session cookie for a token pair from the mock, holding BENCH_USER as a sign-in with
 * the user-info call seals it; `due` makes its access token expired.
 */
async function sessionCookie(pair, { due = false } = {}) {
  const payload = {
    i: pair.id,
    a: pair.access_token,
    r: pair.refresh_token,
    ae: due ? nowSecs() - 5 : unix(pair.access_expire_at),
    re: unix(pair.refresh_expire_at),
    // When the sign-in happened: sessions live at most FREEDOM_ID_SESSION_MAX_AGE from it.
    b: nowSecs(),
    u: BENCH_USER,
  };
  return `${SESSION}=${await seal(SESSION, JSON.stringify(payload))}`;
}

/** The session a /callback answer sealed (opened with the bench's secret), or null. */
async function sealedSession(response) {
  const lines = [response.headers['set-cookie'] ?? []].flat();
  const value = lines.map((line) => new RegExp(`^${SESSION}=([A-Za-z0-9_-]+);`).exec(line)?.[1]).find(Boolean);
  return value ? unseal(SESSION_SECRET, SESSION, value) : null;
}

// ---------------------------------------------------------------------------------------------
// The routes as scenarios. `prepare(worker, n)` makes n requests' inputs ahead of the timing
// (codes and refresh tokens are single-use); `check` refuses any answer but the expected one (it
// may resolve its verdict later: it runs after the latency is taken). Every route is also sent to
// the null Worker in the same blocks, with the same inputs: its CPU is that route's floor.

const JSON_ACCEPT = 'application/json';
/** The grants of the bench's Workers (tests/support/workerd-config.mjs) as an OIDC `scope`. */
const OIDC_SCOPE = 'openid read.email read.phone';

export function routes(mock, site) {
  const floorLocation = `${mock.origin}/login?track_id=`;
  /** The null Worker's answer, whatever the route: 302 at once. */
  const floorCheck = (response) => (response.statusCode === 302 && (response.headers.location ?? '').startsWith(floorLocation) ? null : `the null Worker answered ${response.statusCode}`);
  const withFloor = (route) => ({ ...route, kinds: [...route.kinds, 'null'], check: (worker, response) => (worker.impl === 'null' ? floorCheck(response) : route.check(worker, response)) });
  let liveCookie;
  const live = async () => (liveCookie ??= await sessionCookie((await control(mock, 'token-pairs', 1))[0]));
  const oauth2Login = {
    prepare: async (worker, n) => Array.from({ length: n }, () => ({ path: '/login', headers: { accept: 'text/html' } })),
    check: (worker, response) => {
      const location = response.headers.location ?? '';
      if (response.statusCode !== 302 || !location.startsWith(`${mock.origin}/login?track_id=`) || response.headers['cache-control'] !== 'no-store') {
        return `answered ${response.statusCode} Location=${JSON.stringify(location)}`;
      }
      if (!String(response.headers['set-cookie'] ?? '').includes(FLOW_PREFIX)) return 'no flow cookie';
      return null;
    },
  };
  const oidcAuthorize = `${mock.origin}/openid`;
  /** The OIDC /login's answer: 302 to the mock's /openid with the six parameters, a fresh state and nonce, the flow cookie named after the state. */
  const checkOidcLogin = (worker, response) => {
    const location = response.headers.location ?? '';
    if (response.statusCode !== 302 || !location.startsWith(`${oidcAuthorize}?`) || response.headers['cache-control'] !== 'no-store') {
      return `answered ${response.statusCode} Location=${JSON.stringify(location)} ${response.body.slice(0, 200)}`;
    }
    const query = new URL(location).searchParams;
    const state = query.get('state') ?? '';
    const nonce = query.get('nonce') ?? '';
    const fresh = (value) => /^[A-Za-z0-9_-]{43}$/.test(value); // 256 bits, base64url
    if (!fresh(state) || !fresh(nonce) || state === nonce) return `state ${JSON.stringify(state)}, nonce ${JSON.stringify(nonce)} in ${location}`;
    if (query.get('response_type') !== 'code' || query.get('client_id') !== CLIENT_ID || query.get('redirect_uri') !== `${worker.origin}/callback` || !(query.get('scope') ?? '').split(' ').includes('openid')) {
      return `wrong parameters in ${location}`;
    }
    if (!String(response.headers['set-cookie'] ?? '').includes(`${FLOW_PREFIX}${state.slice(0, 16)}=`)) return `no flow cookie for the state: ${response.headers['set-cookie']}`;
    return null;
  };
  // n guarded requests with one live session cookie (and a cookie of the site's own).
  const guarded = async (worker, n) => {
    const cookie = `site=1; ${await live()}`;
    return Array.from({ length: n }, () => ({ path: GUARDED_PATH, headers: { accept: JSON_ACCEPT, cookie } }));
  };
  /** n callbacks, each with its own code from `issue(n)` and a flow cookie sealed here for a fresh state (and the code's nonce). */
  const callbacks = async (codes, query) =>
    Promise.all(
      codes.map(async ({ code, nonce }) => {
        const state = webcrypto.getRandomValues(Buffer.alloc(32)).toString('base64url');
        const name = `${FLOW_PREFIX}${state.slice(0, 16)}`;
        const flow = await seal(name, JSON.stringify({ s: state, r: null, t: nowSecs(), ...(nonce ? { n: nonce } : {}) }));
        return { path: `/callback?${query(state, code)}`, headers: { accept: 'text/html', cookie: `lang=en; ${name}=${flow}` } };
      }),
    );
  /** A /callback answer: 303 home with the session sealed, its user BENCH_USER (or what `user` lists of her), refreshable or not. */
  const checkSignedIn = async (response, { refreshable, user }) => {
    if (response.statusCode !== 303 || response.headers.location !== '/') return `answered ${response.statusCode} ${response.body.slice(0, 200)}`;
    const session = await sealedSession(response);
    if (!session) return `no session cookie: ${response.headers['set-cookie']}`;
    const wrong = Object.entries(user).filter(([field, value]) => session.u?.[field] !== value).map(([field]) => field);
    if (wrong.length || !Number.isInteger(session.b) || Boolean(session.o) === refreshable) return `sealed the wrong session: ${wrong.join(', ')} ${JSON.stringify(Object.keys(session))}`;
    return null;
  };
  const userBody = `"user":${JSON.stringify(BENCH_USER)}`;
  /** A /session answer for the live session with BENCH_USER. */
  const checkSession = (response) => (response.statusCode === 200 && response.body.startsWith('{"signedIn":true') && response.body.endsWith(`${userBody}}`) ? null : `answered ${response.statusCode} ${response.body.slice(0, 300)}`);
  /** What the site saw of a forwarded request: the identity headers, none of our cookies. */
  const checkForwarded = (response) => {
    if (response.statusCode !== 200) return { problem: `answered ${response.statusCode} ${response.body.slice(0, 200)}` };
    const { headers } = JSON.parse(response.body);
    const identified = typeof headers['x-freedom-id-access-token'] === 'string' && headers['x-freedom-id-user-id'] === BENCH_USER.id;
    const leaked = String(headers.cookie ?? '').includes(SESSION);
    return identified && !leaked && headers.cookie === 'site=1' ? { headers } : { problem: `forwarded wrongly: ${JSON.stringify(headers)}` };
  };
  return [
    {
      name: 'login',
      label: '`GET /login` -> 302 (state, authorize call, sealed flow cookie)',
      kinds: ['rust', 'js'],
      ...oauth2Login,
    },
    {
      // The OIDC flavour's /login: the same Workers started with oidcBindings(). `reference`
      // is measured in the same rotating blocks (the oauth2 /login of `rust`), for the ratio
      // oidc/oauth2 under the same load; variants are oauth2 builds and sit this one out.
      name: 'login-oidc',
      label: '`GET /login` in `oidc` -> 302 (state and nonce, the URL built locally, sealed flow cookie; no upstream call)',
      kinds: ['rust-oidc', 'js-oidc'],
      pair: ['rust-oidc', 'js-oidc'],
      reference: 'rust',
      variants: false,
      prepare: oauth2Login.prepare,
      check: (worker, response) => (worker.kind === 'rust' ? oauth2Login.check(worker, response) : checkOidcLogin(worker, response)),
    },
    {
      name: 'callback',
      label: '`GET /callback` -> 303 (flow cookie opened, state check, token exchange, user-info call, session sealed with the user)',
      kinds: ['rust', 'js'],
      prepare: async (worker, n) => callbacks((await control(mock, 'codes', n)).map((code) => ({ code })), (state, code) => `state=${state}&authorization_code=${code}`),
      check: (worker, response) => checkSignedIn(response, { refreshable: true, user: BENCH_USER }),
    },
    {
      // The OIDC flavour's /callback, on the Workers of `login-oidc`: codes the mock issued for
      // each flow's nonce and this Worker's redirect URI, returned as its OIDC page returns them.
      name: 'callback-oidc',
      label: '`GET /callback` in `oidc` -> 303 (flow cookie opened, state check, OIDC token call, id_token checked: signature with the kept key set, iss, aud, exp, iat, nonce; the user from its claims, session sealed)',
      kinds: ['rust-oidc', 'js-oidc'],
      pair: ['rust-oidc', 'js-oidc'],
      variants: false,
      prepare: async (worker, n) => callbacks(await control(mock, 'oidc-codes', n, { redirect_uri: `${worker.origin}/callback`, scope: OIDC_SCOPE }), (state, code) => `code=${code}&state=${state}`),
      // The id_token's claims carry what the grants read: the id, email and phone.
      check: (worker, response) => checkSignedIn(response, { refreshable: false, user: { id: BENCH_USER.id, email: BENCH_USER.email, phone: BENCH_USER.phone } }),
    },
    {
      name: 'session',
      label: '`GET /session` with a live session cookie -> 200 (cookie opened, the user answered; no upstream call)',
      kinds: ['rust', 'js'],
      prepare: async (worker, n) => {
        const cookie = await live();
        return Array.from({ length: n }, () => ({ path: '/session', headers: { accept: JSON_ACCEPT, cookie } }));
      },
      check: (worker, response) => checkSession(response) ?? (response.headers['set-cookie'] ? `set a cookie: ${response.headers['set-cookie']}` : null),
    },
    {
      name: 'refresh',
      label: '`GET /session` at refresh time -> 200 (cookie opened, refresh call, resealed with the user)',
      kinds: ['rust', 'js'],
      prepare: async (worker, n) => {
        const pairs = await control(mock, 'token-pairs', n);
        return Promise.all(pairs.map(async (pair) => ({ path: '/session', headers: { accept: JSON_ACCEPT, cookie: await sessionCookie(pair, { due: true }) } })));
      },
      check: (worker, response) => checkSession(response) ?? (String(response.headers['set-cookie'] ?? '').includes(`${SESSION}=`) ? null : `not resealed: ${response.headers['set-cookie']}`),
    },
    {
      name: 'gate',
      label: `\`GET ${GUARDED_PATH}\` guarded, live session -> forwarded to a local origin -> 200`,
      kinds: ['rust', 'js', 'direct'],
      prepare: guarded,
      check: (worker, response) => (worker.impl === 'direct' ? (response.statusCode === 200 ? null : `answered ${response.statusCode}`) : (checkForwarded(response).problem ?? null)),
    },
    {
      // The gate with FREEDOM_ID_ASSERTION_KEY and FREEDOM_ID_ALLOW: `reference` (the same Rust
      // gate without either, in the same rotating blocks) gives their own cost per forwarded request.
      name: 'gate-assertion',
      label: `\`GET ${GUARDED_PATH}\` guarded, live session, allow rules, signed assertion (ES256) -> forwarded -> 200`,
      referenceLabel: 'the Rust gate with the allow rules and the assertion / without (their own cost), measured in the same blocks',
      kinds: ['rust-assert', 'js-assert'],
      pair: ['rust-assert', 'js-assert'],
      reference: 'rust',
      variants: false,
      prepare: guarded,
      check: (worker, response) => {
        const { problem, headers } = checkForwarded(response);
        if (problem) return problem;
        const assertion = headers['x-freedom-id-assertion'];
        if (worker.kind === 'rust') return assertion === undefined ? null : 'the keyless gate signed';
        const parts = typeof assertion === 'string' ? assertion.split('.') : [];
        const claims = parts.length === 3 ? JSON.parse(Buffer.from(parts[1], 'base64url').toString('utf8')) : null;
        return claims?.sub === BENCH_USER.id && claims.user?.email === BENCH_USER.email ? null : `no assertion for the user: ${JSON.stringify(headers)}`;
      },
    },
  ].map(withFloor);
}

/** The site behind the gate called directly, as a pseudo-worker (no workerd, no CPU figure). */
export function directWorker(site, maxSockets = 16) {
  return { kind: 'direct', impl: 'direct', url: new URL(site.url), origin: site.url, agent: new http.Agent({ keepAlive: true, maxSockets }), close: async () => {} };
}

// ---------------------------------------------------------------------------------------------
// The client

/** One request; resolves its latency in ms (taken before the check); rejects on a wrong answer. */
export function request(worker, input, check) {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const req = http.get(new URL(input.path, worker.url), { agent: worker.agent, headers: input.headers, timeout: 15_000 }, (response) => {
      let body = '';
      response.setEncoding('utf8').on('data', (chunk) => { body += chunk; });
      response.on('end', () => {
        const ms = performance.now() - t0;
        response.body = body;
        Promise.resolve(check(worker, response)).then((problem) => {
          if (problem) reject(new Error(`${worker.kind} ${input.path.split('?')[0]}: ${problem}`));
          else resolve(ms);
        }, reject);
      });
      response.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`${worker.kind} ${input.path}: timed out`)));
    req.on('error', reject);
  });
}

/** All `inputs` with `concurrency` in flight: {latencies, wallMs}. */
export async function load(worker, inputs, concurrency, check) {
  const latencies = [];
  let next = 0;
  const started = performance.now();
  const lane = async () => {
    while (next < inputs.length) {
      const input = inputs[next++];
      latencies.push(await request(worker, input, check));
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, inputs.length) }, lane));
  return { latencies, wallMs: performance.now() - started };
}
