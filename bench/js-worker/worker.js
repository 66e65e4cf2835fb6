// The benchmark's baseline: the same /login exchange as the Rust Worker, in plain JS (ES module
// Worker). It skips what the Rust core adds (settings validation, grant syntax, the strict URL
// rules, the 64 KiB cap, problem+json/HTML errors): see BENCHMARKS.md.
const DEFAULT_AUTHORIZE_URL = 'https://passport.freedompay.kz/api/v1/oauth/authorize';

export default {
  async fetch(request, env) {
    if (new URL(request.url).pathname !== '/login') return new Response('Not found', { status: 404 });
    const authorizeUrl = env.FREEDOM_ID_AUTHORIZE_URL || DEFAULT_AUTHORIZE_URL;
    try {
      const upstream = await fetch(authorizeUrl, {
        method: 'POST',
        headers: {
          Authorization: `Basic ${btoa(`${env.FREEDOM_ID_CLIENT_ID}:${env.FREEDOM_ID_CLIENT_SECRET}`)}`,
          'Content-Type': 'application/json',
          Accept: 'application/json',
        },
        body: JSON.stringify({
          redirect_uri: env.FREEDOM_ID_REDIRECT_URI,
          grants: env.FREEDOM_ID_GRANTS.split(/[\s,]+/).filter(Boolean),
        }),
        redirect: 'manual',
        signal: AbortSignal.timeout(Number(env.FREEDOM_ID_TIMEOUT_MS || 5000)),
      });
      if (upstream.status < 200 || upstream.status > 299) {
        await upstream.body?.cancel();
        return new Response('Bad gateway', { status: 502 });
      }
      const link = (await upstream.json())?.redirect_uri;
      if (typeof link !== 'string' || new URL(link).origin !== new URL(authorizeUrl).origin) {
        return new Response('Bad gateway', { status: 502 });
      }
      return new Response(null, { status: 302, headers: { Location: link, 'Cache-Control': 'no-store' } });
    } catch (error) {
      return new Response('Bad gateway', { status: error?.name === 'TimeoutError' ? 504 : 502 });
    }
  },
};
