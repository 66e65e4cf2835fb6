// freedom-id-edge: the same four functions and types in every runtime.
//
// The one source of the package's TypeScript declarations: the build ships this file as every
// entry's .d.mts and .d.cts (scripts/finish-npm-package.mjs, which fails unless wasm-bindgen's
// signature of each export is here verbatim), and npm/README.md's API block shows each of its
// declarations verbatim (tests/npm/types.test.mjs).

/**
 * Asks Freedom ID for a sign-in link to redirect the user to.
 *
 * A fresh login-CSRF `state` is made and appended to `redirectUri` unless `state` is
 * given (yours is used) or `false` (none); it is returned as `link.state`.
 *
 * Rejects with an `Error` whose `code` is `INVALID_OPTIONS`, `UPSTREAM_STATUS` (with a
 * numeric `status`), `UPSTREAM_MALFORMED`, `UNTRUSTED_LINK`, `UPSTREAM_NETWORK` or
 * `UPSTREAM_TIMEOUT`. Messages never contain the client secret.
 */
export function createAuthorizationLink(options: AuthorizationLinkOptions): Promise<AuthorizationLink>;

/**
 * Completes a sign-in on the callback: checks the callback's `state` against
 * `expectedState` (in constant time, before anything is sent), then exchanges the code.
 * `skipStateCheck: true` is the only way to skip the check (for a link made with
 * `state: false`); a non-string `expectedState`, such as `false`, is `INVALID_OPTIONS`.
 *
 * Rejects with `STATE_MISMATCH` (nothing sent), `SIGN_IN_DECLINED` (with
 * `freedomIdErrorCode`), `CODE_REJECTED` (with `status` and, when sent, `upstreamCode`),
 * `INVALID_OPTIONS`, or the upstream codes of `createAuthorizationLink`.
 */
export function completeSignIn(options: CompleteSignInOptions): Promise<Tokens>;

/**
 * Exchanges an authorization code for tokens (no state check: use `completeSignIn` on a
 * callback).
 */
export function exchangeAuthorizationCode(options: ExchangeAuthorizationCodeOptions): Promise<Tokens>;

/**
 * Trades a refresh token for a new token pair. The old refresh token is used up: store
 * the new one. Rejects with `REFRESH_REJECTED` when Freedom ID refuses it.
 */
export function refreshTokens(options: RefreshTokensOptions): Promise<Tokens>;

export interface AuthorizationLinkOptions {
  clientId: string; clientSecret: string;   // the Basic pair issued by Freedom ID
  redirectUri: string;                      // absolute https URL (http only for localhost)
  grants: string[];                         // e.g. ["openid", "read.email"]
  authorizeUrl?: string;                    // default https://passport.freedompay.kz/api/v1/oauth/authorize
  timeoutMs?: number;                       // default 5000
  /** Login-CSRF binding. Absent (or undefined/null): a fresh 256-bit state is made and returned.
   *  A string: yours is used. false: no state (only if you bind the sign-in some other way). */
  state?: string | false | null;
}

export interface AuthorizationLink {
  url: string;                 // the Freedom ID link to redirect the user to
  trackId: string | null;      // track_id query parameter of the link, if present
  expireAt: number | null;     // expire_at (unix seconds) of the link, if present
  /** The state appended to redirectUri: keep it in the user's session and pass it to
   *  completeSignIn as expectedState. null only when made with state: false (then pass
   *  completeSignIn skipStateCheck: true). */
  state: string | null;
}

/** The state check is required: pass expectedState, the state kept from createAuthorizationLink.
 *  Only for a link made with state: false, pass skipStateCheck: true instead (never both). */
export type CompleteSignInOptions = {
  clientId: string; clientSecret: string;
  callbackUrl: string;            // the full URL Freedom ID sent the user back to (or its path and query)
  tokenUrl?: string;              // default https://passport.freedompay.kz/api/v1/oauth/token
  timeoutMs?: number;             // default 5000
} & (
  | { expectedState: string; skipStateCheck?: false }    // the state kept from createAuthorizationLink
  | { skipStateCheck: true; expectedState?: undefined }  // no state check: only for a link made with state: false
);

export interface ExchangeAuthorizationCodeOptions {
  clientId: string; clientSecret: string;
  code: string;                   // the authorization_code from the callback
  tokenUrl?: string; timeoutMs?: number;
}

export interface RefreshTokensOptions {
  refreshToken: string;           // used up by this call: store the new one
  tokenUrl?: string; timeoutMs?: number;
}

export interface Tokens {
  id: string | null;              // Freedom ID's id for this token pair
  accessToken: string;
  refreshToken: string;
  accessExpiresAt: number;        // unix seconds
  refreshExpiresAt: number;       // unix seconds
}
