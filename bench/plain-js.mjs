// The benchmark's Node baseline: createAuthorizationLink's HTTP exchange in plain JS with the
// global fetch. Same options shape and result; it skips the option validation, grant syntax,
// strict URL rules, 64 KiB cap and error codes of the Rust core (see BENCHMARKS.md).
const DEFAULT_AUTHORIZE_URL = 'https://passport.freedompay.kz/api/v1/oauth/authorize';

export async function createAuthorizationLink({ clientId, clientSecret, redirectUri, grants, authorizeUrl = DEFAULT_AUTHORIZE_URL, timeoutMs = 5000 }) {
  const response = await fetch(authorizeUrl, {
    method: 'POST',
    headers: {
      Authorization: `Basic ${Buffer.from(`${clientId}:${clientSecret}`).toString('base64')}`,
      'Content-Type': 'application/json',
      Accept: 'application/json',
    },
    body: JSON.stringify({ redirect_uri: redirectUri, grants }),
    redirect: 'manual',
    signal: AbortSignal.timeout(timeoutMs),
  });
  if (response.status < 200 || response.status > 299) {
    await response.body?.cancel();
    throw Object.assign(new Error(`Freedom ID answered ${response.status}`), { code: 'UPSTREAM_STATUS', status: response.status });
  }
  const link = (await response.json())?.redirect_uri;
  if (typeof link !== 'string') throw Object.assign(new Error('no redirect_uri'), { code: 'UPSTREAM_MALFORMED' });
  const url = new URL(link);
  if (url.origin !== new URL(authorizeUrl).origin) throw Object.assign(new Error('untrusted link'), { code: 'UNTRUSTED_LINK' });
  const expireAt = url.searchParams.get('expire_at');
  return { url: link, trackId: url.searchParams.get('track_id'), expireAt: expireAt === null ? null : Number(expireAt) };
}
