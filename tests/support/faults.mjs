// What each mode of the mock Freedom ID (support/mock-freedom-id.mjs) yields, at each endpoint,
// in the Worker and in the npm package: the one table of mode -> outcome that every test walking
// the modes reads (worker, session, gate, logs and soak tests, npm/package.test.mjs). The mock's
// MODES, TOKEN_MODES and RANDOM_FAULTS are checked against it (support/mock-freedom-id.test.mjs):
// a mode added to the mock without an outcome here fails there.
//
// Both products run one core, so a mode gives the same error code in the Worker and in the
// package; what differs is how each reports it:
//   - the Worker answers a problem with its code's HTTP status (WORKER_STATUS, as
//     `ErrorCode::http_status` in src/error.rs) and logs `upstream_status`, the status Freedom ID
//     answered with (null when it never answered);
//   - the package rejects with an Error of that `code`, whose `status` is Freedom ID's status for
//     UPSTREAM_STATUS and refusals only, and `upstreamCode` Freedom ID's error code for refusals.
//
//   import { AUTHORIZE_FAULTS, TOKEN_FAULTS, fault, faults, faultsWhere } from './support/faults.mjs';
//   import { OIDC_TOKEN_FAULTS, USERINFO_FAULTS } from './support/faults.mjs';   // issue #21
//   for (const { mode, code, status } of faultsWhere(AUTHORIZE_FAULTS, (f) => f.code)) ...  // every failure
//   for (const { mode, refresh } of faults(TOKEN_FAULTS, ['status:503', 'reset'])) ...      // a test's own pick
//
// An authorize row: { mode, upstream, code (null: a link), status (the Worker's: 302 or the
//   problem's), bomb, npm: { code, details } } (details: what rejectsWith checks on the Error;
//   `undefined` means the property is absent).
// A token row: { mode, upstream, upstreamCode, spendsCode, noId, bomb, exchange, refresh }, each
//   step { code (null: a token pair), status (the Worker's), npm: { code, details } }.
// An OIDC token row (`mock.setOidcTokenMode`): { mode, upstream, upstreamCode, spendsCode, bomb,
//   signatureOnly, exchange, exchangeWithJwks }: `exchange` is /callback (and completeSignIn) without
//   FREEDOM_ID_JWKS_URL / jwksUrl, `exchangeWithJwks` with the mock's key set (mock.jwksUrl); each step
//   { code (null: signed in), status (the Worker's: 303 when signed in), npm: { code, details } }.
//   `signatureOnly`: the fault is in the signature or its key, so only a checked signature finds it.
// A user-info row (`mock.setUserInfoMode`, with FREEDOM_ID_USERINFO_URL / userInfoUrl set to
//   mock.userInfoUrl): { mode, upstream, bomb, drops, overflowsCookie, oauth2, oidc }, a step per
//   flavour as above. `drops`: the fields the answer sends too long to keep (over 256 characters;
//   in oidc the id_token's claim of that name, if any, stands in); `overflowsCookie`: each field is
//   keepable but together they push the sealed cookie over 4,096 bytes, so the optional ones are
//   dropped largest first and the id kept.

/** The Worker's HTTP status for each code an upstream fault can give (src/error.rs). */
export const WORKER_STATUS = Object.freeze({
  UPSTREAM_STATUS: 502,
  UPSTREAM_MALFORMED: 502,
  UNTRUSTED_LINK: 502,
  UPSTREAM_NETWORK: 502,
  UPSTREAM_TIMEOUT: 504,
  CODE_REJECTED: 400,
  REFRESH_REJECTED: 401,
  ID_TOKEN_INVALID: 502,
  USERINFO_REJECTED: 502,
});

/** A token-endpoint refusal: CODE_REJECTED at the exchange, REFRESH_REJECTED at the refresh. */
const REFUSED = Symbol('refused');

// The authorize endpoint (`mock.setMode`): [mode, code or null for a link, Freedom ID's status].
const AUTHORIZE = [
  ['ok', null, 200],
  ['status:500', 'UPSTREAM_STATUS', 500],
  ['status:401', 'UPSTREAM_STATUS', 401],
  ['status:503', 'UPSTREAM_STATUS', 503],
  ['error-200', 'UPSTREAM_STATUS', 200],
  ['redirect', 'UPSTREAM_STATUS', 302],
  ['not-json', 'UPSTREAM_MALFORMED', 200],
  ['no-redirect-uri', 'UPSTREAM_MALFORMED', 200],
  ['number-redirect-uri', 'UPSTREAM_MALFORMED', 200],
  ['huge', 'UPSTREAM_MALFORMED', 200],
  ['huge-chunked', 'UPSTREAM_MALFORMED', 200],
  ['gzip-bomb', 'UPSTREAM_MALFORMED', 200],
  ['br-bomb', 'UPSTREAM_MALFORMED', 200],
  ['gzip-ok', null, 200],
  ['evil-link', 'UNTRUSTED_LINK', 200],
  ['userinfo-link', 'UNTRUSTED_LINK', 200],
  ['reset', 'UPSTREAM_NETWORK', null],
  ['hang', 'UPSTREAM_TIMEOUT', null],
  ['hang-body', 'UPSTREAM_TIMEOUT', 200], // the headers came, the body never does
  ['slow:300', null, 200], // within every test's timeout
];

// The token endpoint (`mock.setTokenMode`): [mode, outcome (null: a token pair, REFUSED, or the
// code), Freedom ID's status, more]. `spendsCode`: the mode runs the real exchange (the code is
// spent) or refresh (the refresh token rotated) before its twist; `upstreamCode`: the error code
// a refusal carries; `noId`: a token pair without an `id`.
const TOKEN = [
  ['ok', null, 200, { spendsCode: true }],
  ['status:400', REFUSED, 400, { upstreamCode: '100102' }],
  ['status:401', REFUSED, 401, { upstreamCode: '100100' }],
  ['status:500', 'UPSTREAM_STATUS', 500],
  ['status:503', 'UPSTREAM_STATUS', 503],
  ['error-200', REFUSED, 200, { upstreamCode: '100101' }],
  ['error-200-string-code', REFUSED, 200, { upstreamCode: '100101' }],
  ['validation-error', REFUSED, 422, { upstreamCode: undefined }],
  ['redirect', 'UPSTREAM_STATUS', 302],
  ['not-json', 'UPSTREAM_MALFORMED', 200],
  ['no-access-token', 'UPSTREAM_MALFORMED', 200],
  ['bad-expiry', 'UPSTREAM_MALFORMED', 200],
  ['no-id', null, 200, { spendsCode: true, noId: true }],
  ['huge', 'UPSTREAM_MALFORMED', 200, { spendsCode: true }],
  ['huge-chunked', 'UPSTREAM_MALFORMED', 200, { spendsCode: true }],
  ['gzip-bomb', 'UPSTREAM_MALFORMED', 200],
  ['br-bomb', 'UPSTREAM_MALFORMED', 200],
  ['gzip-ok', null, 200, { spendsCode: true }],
  ['hang', 'UPSTREAM_TIMEOUT', null],
  ['hang-body', 'UPSTREAM_TIMEOUT', 200],
  ['reset', 'UPSTREAM_NETWORK', null],
  ['slow:300', null, 200, { spendsCode: true }],
];

// The OIDC token endpoint (`mock.setOidcTokenMode`): [mode, outcome (null: signed in, REFUSED: the
// token endpoint refused the code, or the code), Freedom ID's status, more]. `spendsCode`: the mode
// runs the real exchange before its twist; `signatureOnly`: the outcome holds only when the signature
// is checked (FREEDOM_ID_JWKS_URL set), without it the sign-in succeeds (OIDC Core 3.1.3.7, step 6).
const OIDC_TOKEN = [
  ['ok', null, 200, { spendsCode: true }],
  ['aud-array', null, 200, { spendsCode: true }], // aud an array that holds the client id
  ['expired-in-leeway', null, 200, { spendsCode: true }], // within the 60 s leeway
  ['iat-future-in-leeway', null, 200, { spendsCode: true }],
  ['wrong-iss', 'ID_TOKEN_INVALID', 200, { spendsCode: true }],
  ['wrong-aud', 'ID_TOKEN_INVALID', 200, { spendsCode: true }],
  ['expired', 'ID_TOKEN_INVALID', 200, { spendsCode: true }],
  ['iat-future', 'ID_TOKEN_INVALID', 200, { spendsCode: true }],
  ['wrong-nonce', 'ID_TOKEN_INVALID', 200, { spendsCode: true }],
  ['no-nonce', 'ID_TOKEN_INVALID', 200, { spendsCode: true }],
  ['no-sub', 'ID_TOKEN_INVALID', 200, { spendsCode: true }],
  ['long-sub', 'ID_TOKEN_INVALID', 200, { spendsCode: true }], // 256 characters: at most 255
  ['alg-none', 'ID_TOKEN_INVALID', 200, { spendsCode: true }], // refused with or without a key set
  ['bad-signature', 'ID_TOKEN_INVALID', 200, { spendsCode: true, signatureOnly: true }],
  ['unknown-kid', 'ID_TOKEN_INVALID', 200, { spendsCode: true, signatureOnly: true }], // after one refetch
  ['malformed', 'ID_TOKEN_INVALID', 200, { spendsCode: true }],
  ['malformed-base64', 'ID_TOKEN_INVALID', 200, { spendsCode: true }],
  ['malformed-json', 'ID_TOKEN_INVALID', 200, { spendsCode: true }],
  ['no-id-token', 'UPSTREAM_MALFORMED', 200, { spendsCode: true }], // the token answer lacks a required member
  ['status:400', REFUSED, 400, { upstreamCode: '100102' }],
  ['status:401', REFUSED, 401, { upstreamCode: '100100' }],
  ['status:500', 'UPSTREAM_STATUS', 500],
  ['status:503', 'UPSTREAM_STATUS', 503],
  ['error-200', REFUSED, 200, { upstreamCode: '100101' }],
  ['redirect', 'UPSTREAM_STATUS', 302],
  ['not-json', 'UPSTREAM_MALFORMED', 200],
  ['hang', 'UPSTREAM_TIMEOUT', null],
  ['reset', 'UPSTREAM_NETWORK', null],
  ['slow:300', null, 200, { spendsCode: true }],
];

// The user-info endpoint (`mock.setUserInfoMode`): [mode, outcome in oauth2, outcome in oidc,
// Freedom ID's status, more]. A refusal (401, 403) is USERINFO_REJECTED; in oauth2 a user-info `sub`
// is one of the fields that are ignored, in oidc it must be the id_token's.
const USERINFO = [
  ['ok', null, null, 200],
  ['status:401', 'USERINFO_REJECTED', 'USERINFO_REJECTED', 401],
  ['status:403', 'USERINFO_REJECTED', 'USERINFO_REJECTED', 403],
  ['status:500', 'UPSTREAM_STATUS', 'UPSTREAM_STATUS', 500],
  ['status:503', 'UPSTREAM_STATUS', 'UPSTREAM_STATUS', 503],
  ['not-json', 'UPSTREAM_MALFORMED', 'UPSTREAM_MALFORMED', 200],
  ['huge', 'UPSTREAM_MALFORMED', 'UPSTREAM_MALFORMED', 200],
  ['huge-chunked', 'UPSTREAM_MALFORMED', 'UPSTREAM_MALFORMED', 200],
  ['gzip-bomb', 'UPSTREAM_MALFORMED', 'UPSTREAM_MALFORMED', 200],
  ['mismatched-sub', null, 'ID_TOKEN_INVALID', 200],
  ['oversized-claims', null, null, 200, { drops: ['firstname', 'lastname', 'patronymic', 'email', 'phone', 'identifier'] }],
  ['claims-at-limit', null, null, 200, { overflowsCookie: true }],
  ['redirect', 'UPSTREAM_STATUS', 'UPSTREAM_STATUS', 302], // redirects are not followed
  ['hang', 'UPSTREAM_TIMEOUT', 'UPSTREAM_TIMEOUT', null],
  ['reset', 'UPSTREAM_NETWORK', 'UPSTREAM_NETWORK', null],
  ['slow:300', null, null, 200],
];

/** What the package's Error carries besides its code, for a failure of `code` (`undefined`: absent). */
function npmDetails(code, upstream, refused, upstreamCode) {
  if (refused) return { status: upstream, upstreamCode };
  if (code === 'UPSTREAM_STATUS') return { status: upstream };
  return { status: undefined };
}

const isBomb = (mode) => mode.endsWith('-bomb');

/** Every mode of the authorize endpoint, with what /login and createAuthorizationLink make of it. */
export const AUTHORIZE_FAULTS = Object.freeze(
  AUTHORIZE.map(([mode, code, upstream]) =>
    Object.freeze({
      mode,
      upstream,
      code,
      status: code === null ? 302 : WORKER_STATUS[code],
      bomb: isBomb(mode),
      npm: Object.freeze({ code, details: code === null ? {} : npmDetails(code, upstream, false) }),
    }),
  ),
);

/** Every mode of the token endpoint, with what the exchange (/callback) and the refresh make of it. */
export const TOKEN_FAULTS = Object.freeze(
  TOKEN.map(([mode, outcome, upstream, { spendsCode = false, upstreamCode, noId = false } = {}]) => {
    const step = (refusal, success) => {
      const refused = outcome === REFUSED;
      const code = refused ? refusal : outcome;
      return Object.freeze({
        code,
        status: code === null ? success : WORKER_STATUS[code],
        npm: Object.freeze({
          code,
          details: code === null ? (noId ? { id: null } : {}) : npmDetails(code, upstream, refused, upstreamCode),
        }),
      });
    };
    return Object.freeze({
      mode,
      upstream,
      upstreamCode,
      spendsCode,
      noId,
      bomb: isBomb(mode),
      // /callback signs in with a 303; a refresh that works keeps the session (no status of its own).
      exchange: step('CODE_REJECTED', 303),
      refresh: step('REFRESH_REJECTED', null),
    });
  }),
);

/** A sign-in step of the OIDC flavour or the user-info call: null is a signed-in 303 at /callback. */
function signInStep(outcome, upstream, upstreamCode) {
  const refused = outcome === REFUSED;
  const code = refused ? 'CODE_REJECTED' : outcome;
  // USERINFO_REJECTED, like UPSTREAM_STATUS, carries Freedom ID's status (src/error.rs: UserinfoRejected { status }).
  const details =
    code === null ? {} : code === 'USERINFO_REJECTED' ? { status: upstream } : npmDetails(code, upstream, refused, upstreamCode);
  return Object.freeze({
    code,
    status: code === null ? 303 : WORKER_STATUS[code],
    npm: Object.freeze({ code, details: Object.freeze(details) }),
  });
}

/** Every mode of the OIDC token endpoint, with what /callback (and completeSignIn) makes of it, without and with a key set. */
export const OIDC_TOKEN_FAULTS = Object.freeze(
  OIDC_TOKEN.map(([mode, outcome, upstream, { spendsCode = false, upstreamCode, signatureOnly = false } = {}]) =>
    Object.freeze({
      mode,
      upstream,
      upstreamCode,
      spendsCode,
      bomb: isBomb(mode),
      signatureOnly,
      exchange: signInStep(signatureOnly ? null : outcome, upstream, upstreamCode),
      exchangeWithJwks: signInStep(outcome, upstream, upstreamCode),
    }),
  ),
);

/** Every mode of the user-info endpoint, with what a sign-in in each flavour makes of it. */
export const USERINFO_FAULTS = Object.freeze(
  USERINFO.map(([mode, oauth2, oidc, upstream, { drops = [], overflowsCookie = false } = {}]) =>
    Object.freeze({
      mode,
      upstream,
      bomb: isBomb(mode),
      drops: Object.freeze(drops),
      overflowsCookie,
      oauth2: signInStep(oauth2, upstream),
      oidc: signInStep(oidc, upstream),
    }),
  ),
);

/**
 * The row of `table` for `mode`. A `slow:<ms>` mode takes the table's slow row (its outcome does
 * not depend on the delay, only on the caller's timeout being longer), with its own mode.
 */
export function fault(table, mode) {
  const row = table.find((candidate) => candidate.mode === mode);
  if (row) return row;
  const slow = /^slow:\d+$/.test(mode) && table.find((candidate) => candidate.mode.startsWith('slow:'));
  if (slow) return Object.freeze({ ...slow, mode });
  throw new Error(`support/faults.mjs has no outcome for mode ${JSON.stringify(mode)}`);
}

/** The rows for a test's own selection of `modes`, in its order. */
export const faults = (table, modes) => modes.map((mode) => fault(table, mode));

/** The rows of `table` that `predicate` keeps, in the table's order; never none (a typo would walk nothing). */
export function faultsWhere(table, predicate) {
  const rows = table.filter(predicate);
  if (rows.length === 0) throw new Error('faultsWhere: no mode matches');
  return rows;
}
