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
//   for (const { mode, code, status } of faultsWhere(AUTHORIZE_FAULTS, (f) => f.code)) ...  // every failure
//   for (const { mode, refresh } of faults(TOKEN_FAULTS, ['status:503', 'reset'])) ...      // a test's own pick
//
// An authorize row: { mode, upstream, code (null: a link), status (the Worker's: 302 or the
//   problem's), bomb, npm: { code, details } } (details: what rejectsWith checks on the Error;
//   `undefined` means the property is absent).
// A token row: { mode, upstream, upstreamCode, spendsCode, noId, bomb, exchange, refresh }, each
//   step { code (null: a token pair), status (the Worker's), npm: { code, details } }.

/** The Worker's HTTP status for each code an upstream fault can give (src/error.rs). */
export const WORKER_STATUS = Object.freeze({
  UPSTREAM_STATUS: 502,
  UPSTREAM_MALFORMED: 502,
  UNTRUSTED_LINK: 502,
  UPSTREAM_NETWORK: 502,
  UPSTREAM_TIMEOUT: 504,
  CODE_REJECTED: 400,
  REFRESH_REJECTED: 401,
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
