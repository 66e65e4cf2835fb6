// freedom-id-edge: the same six functions and types in every runtime.
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
 * With `protocol: 'oidc'` the link is built here, with no network call and no client
 * secret: it carries the `state` and a `nonce` (fresh 256-bit ones unless given), both
 * returned, and `redirectUri` exactly as given.
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
 * With `protocol: 'oidc'` the id_token is then checked (`iss`, `aud`, `exp`, `iat`,
 * `nonce` = `expectedNonce`, `sub`; its signature too with `jwksUrl`). With `userInfoUrl`
 * the user's profile is fetched last. Resolves the tokens and `user`.
 *
 * Rejects with `STATE_MISMATCH` (nothing sent), `SIGN_IN_DECLINED` (with
 * `freedomIdErrorCode`), `CODE_REJECTED` (with `status` and, when sent, `upstreamCode`),
 * `ID_TOKEN_INVALID`, `USERINFO_REJECTED` (with `status`), `INVALID_OPTIONS`, or the
 * upstream codes of `createAuthorizationLink`.
 */
export function completeSignIn(options: CompleteSignInOptions): Promise<SignIn>;

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

/**
 * Fetches the user's profile with an access token (Freedom ID's user-info call, whose
 * path is not public: pass it as `userInfoUrl`). Rejects with `USERINFO_REJECTED` (with
 * `status`) when Freedom ID refuses the token, or the upstream codes.
 */
export function fetchUserInfo(options: FetchUserInfoOptions): Promise<User>;

/**
 * Checks the gate's `X-Freedom-ID-Assertion` (an ES256 JWT the Worker signs for every request
 * it forwards), for the site behind the gate. In order: its form, `alg` exactly `ES256`, a
 * `kid` the key set has, the signature (WebCrypto ECDSA P-256), `iss` = `issuer`, `aud` =
 * `audience`, `exp` not past and `iat` not in the future (both within `clockToleranceSec`).
 * A key set from `jwksUrl` is kept per process for 5 minutes; an unknown `kid` refetches it
 * at most once a minute.
 *
 * Rejects with `ASSERTION_INVALID` (with `details.problem`: `malformed`, `alg`, `kid`,
 * `signature`, `iss`, `aud`, `exp` or `iat`), `INVALID_OPTIONS`, or, fetching `jwksUrl`,
 * `UPSTREAM_STATUS`, `UPSTREAM_MALFORMED`, `UPSTREAM_NETWORK` or `UPSTREAM_TIMEOUT`.
 * Messages never contain the assertion.
 */
export function verifyGateAssertion(assertion: string | null | undefined, options: VerifyGateAssertionOptions): Promise<GateAssertion>;

export type AuthorizationLinkOptions = {
  redirectUri: string;                      // absolute https URL (http only for localhost)
  grants: string[];                         // e.g. ["openid", "read.email"]; must hold "openid" in oidc
  timeoutMs?: number;                       // default 5000
} & (
  | {
      protocol?: 'oauth2';                  // the default: Freedom ID makes the link
      clientId: string; clientSecret: string;   // the Basic pair issued by Freedom ID
      authorizeUrl?: string;                // default https://passport.freedompay.kz/api/v1/oauth/authorize
      /** Login-CSRF binding. Absent (or undefined/null): a fresh 256-bit state is made and returned.
       *  A string: yours is used. false: no state (only if you bind the sign-in some other way). */
      state?: string | false | null;
      nonce?: undefined;
    }
  | {
      protocol: 'oidc';                     // OpenID Connect: the link is built here, no call
      clientId: string; clientSecret?: string;  // the secret is not needed for the link
      oidcAuthorizeUrl?: string;            // default https://passport.freedompay.kz/openid
      state?: string | null;                // absent: a fresh 256-bit state (false is refused)
      nonce?: string | null;                // absent: a fresh 256-bit nonce
    }
);

export interface AuthorizationLink {
  url: string;                 // the Freedom ID link to redirect the user to
  trackId: string | null;      // track_id query parameter of the link, if present (null in oidc)
  expireAt: number | null;     // expire_at (unix seconds) of the link, if present (null in oidc)
  /** The link's state: keep it in the user's session and pass it to completeSignIn as
   *  expectedState. null only when made with state: false (then pass completeSignIn
   *  skipStateCheck: true). */
  state: string | null;
  /** oidc: the link's nonce: keep it with the state and pass it to completeSignIn as
   *  expectedNonce. null in oauth2. */
  nonce: string | null;
}

/** The state check is required: pass expectedState, the state kept from createAuthorizationLink.
 *  Only for a link made with state: false, pass skipStateCheck: true instead (never both). */
export type CompleteSignInOptions = {
  clientId: string; clientSecret: string;
  callbackUrl: string;            // the full URL Freedom ID sent the user back to (or its path and query)
  userInfoUrl?: string;           // Freedom ID's user-info call: fetch the user's profile too
  timeoutMs?: number;             // default 5000, for each call
} & (
  | ({
      protocol?: 'oauth2';
      tokenUrl?: string;          // default https://passport.freedompay.kz/api/v1/oauth/token
      expectedNonce?: undefined;
    } & (
      | { expectedState: string; skipStateCheck?: false }    // the state kept from createAuthorizationLink
      | { skipStateCheck: true; expectedState?: undefined }  // no state check: only for a link made with state: false
    ))
  | {
      protocol: 'oidc';
      expectedState: string;      // the state kept from createAuthorizationLink
      expectedNonce: string;      // the nonce kept from createAuthorizationLink
      redirectUri: string;        // the link's redirectUri: the token call sends it again
      oidcTokenUrl?: string;      // default https://passport.freedompay.kz/api/v1/oidc/token
      issuer?: string;            // the id_token's iss; default https://passport.freedompay.kz
      jwksUrl?: string;           // the key set that verifies the id_token's signature (RS256, ES256)
      skipStateCheck?: false;
    }
);

export interface ExchangeAuthorizationCodeOptions {
  clientId: string; clientSecret: string;
  code: string;                   // the authorization_code from the callback
  tokenUrl?: string; timeoutMs?: number;
}

export interface FetchUserInfoOptions {
  accessToken: string;
  userInfoUrl: string;            // Freedom ID's user-info call (its path is not public)
  timeoutMs?: number;             // default 5000
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

/** Who signed in: the id, and each profile field Freedom ID shared (strings of at most 256
 *  characters; a field it did not share is absent). Personal data: never log it. */
export interface User {
  id: string;                     // oidc: the id_token's sub; oauth2: the user-info id
  firstname?: string; lastname?: string; patronymic?: string;
  email?: string; phone?: string; date_of_birth?: string; gender?: string;
  country?: string; nationality?: string; identifier?: string;
}

/** The id_token's claims, as Freedom ID signed them (those it checked, and any other). */
export interface IdTokenClaims {
  iss: string; sub: string; aud: string | string[]; exp: number; iat: number; nonce: string;
  [claim: string]: unknown;
}

/** What completeSignIn resolves to: the tokens and who signed in. In oidc, `id` is null and
 *  `refreshExpiresAt` is `accessExpiresAt`: Freedom ID documents no refresh for that flavour. */
export type SignIn = Tokens & (
  | { user: User | null; idToken: null; idTokenClaims: null }        // oauth2: user null without userInfoUrl
  | { user: User; idToken: string; idTokenClaims: IdTokenClaims }    // oidc: user.id is the id_token's sub
);

/** Where verifyGateAssertion finds the gate's public keys (exactly one), and what it expects. */
export type VerifyGateAssertionOptions = {
  issuer: string;                 // the gate's origin, e.g. "https://app.example.com" (the iss)
  audience: string;               // FREEDOM_ID_ASSERTION_AUDIENCE, or the origin requests go to (the aud)
  clockToleranceSec?: number;     // whole seconds 0-300 of clock skew allowed; default 5
  timeoutMs?: number;             // default 5000, for fetching jwksUrl
} & (
  | { jwksUrl: string; jwks?: undefined }                 // e.g. "https://app.example.com/.well-known/jwks.json"
  | {
      /** The key set itself: public P-256 JWKs (a JsonWebKey from crypto.subtle.exportKey, with its kid). */
      jwks: { keys: { kty?: string; crv?: string; x?: string; y?: string; kid?: string; alg?: string; use?: string }[] };
      jwksUrl?: undefined;
    }
);

/** What a valid assertion says: who passed the gate, and when. */
export interface GateAssertion {
  sub: string | null;             // the user's id when known, else the token pair's id
  sid: string | null;             // the token pair's id (null after an OIDC sign-in)
  user: User | null;              // the profile, as /session shows it
  iat: number;                    // issued at, unix seconds
  exp: number;                    // expiry, unix seconds (iat + 60)
}
