// The mock Freedom ID in its own process for the benchmark, logging off (codes live an hour, so
// a batch issued before a block is still good at its end). Prints one JSON line
// {"origin", "authorizeUrl", "tokenUrl", "oidcAuthorizeUrl", "oidcTokenUrl", "issuer", "jwksUrl",
// "userInfoUrl", "control"} once listening, and stops when stdin closes (its parent ended) or on
// SIGTERM/SIGINT.
//
// `control` is a second loopback server for the benchmark's setup, never timed:
//   POST /codes?n=N        -> ["<code>", ...]   N fresh authorization codes
//   POST /token-pairs?n=N  -> [{id, access_token, refresh_token, ...}, ...]   N codes exchanged
//                             through the mock's own token endpoint (live refresh tokens)
//   POST /oidc-codes?n=N&redirect_uri=URL&scope=S -> [{code, nonce}, ...]   N fresh OIDC codes,
//                             each with its own fresh 256-bit nonce, for that redirect URI and scope
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import { startMockFreedomId } from '../tests/support/mock-freedom-id.mjs';

const mock = await startMockFreedomId({ log: false, codeTtlSeconds: 3600 });
const basic = `Basic ${Buffer.from('demo-client:demo-secret').toString('base64')}`;
const agent = new http.Agent({ keepAlive: true, maxSockets: 8 });

function exchange(code) {
  return new Promise((resolve, reject) => {
    const body = JSON.stringify({ authorization_code: code });
    const request = http.request(mock.tokenUrl, { method: 'POST', agent, headers: { Authorization: basic, 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) } }, (response) => {
      let text = '';
      response.setEncoding('utf8').on('data', (chunk) => { text += chunk; });
      response.on('end', () => (response.statusCode === 200 ? resolve(JSON.parse(text)) : reject(new Error(`exchange answered ${response.statusCode}: ${text}`))));
    });
    request.on('error', reject);
    request.end(body);
  });
}

async function tokenPairs(n) {
  const pairs = [];
  let next = 0;
  const lane = async () => {
    while (next < n) {
      next++;
      pairs.push(await exchange(mock.issueCode()));
    }
  };
  await Promise.all(Array.from({ length: Math.min(8, n) }, lane));
  return pairs;
}

const control = http.createServer((req, res) => {
  const url = new URL(req.url, 'http://control.invalid');
  const n = Math.max(0, Math.min(20_000, Number(url.searchParams.get('n')) || 0));
  const reply = (value) => {
    const text = JSON.stringify(value);
    res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) });
    res.end(text);
  };
  req.resume().on('end', () => {
    if (url.pathname === '/codes') return reply(Array.from({ length: n }, () => mock.issueCode()));
    if (url.pathname === '/oidc-codes') {
      const redirectUri = url.searchParams.get('redirect_uri') ?? '';
      const scope = url.searchParams.get('scope') ?? 'openid';
      return reply(Array.from({ length: n }, () => {
        const nonce = randomBytes(32).toString('base64url');
        return { code: mock.issueOidcCode({ nonce, redirectUri, scope }), nonce };
      }));
    }
    if (url.pathname === '/token-pairs') {
      return tokenPairs(n).then(reply, (error) => {
        res.writeHead(500);
        res.end(String(error));
      });
    }
    res.writeHead(404);
    res.end();
  });
});
await new Promise((resolve) => control.listen(0, '127.0.0.1', resolve));

const { origin, authorizeUrl, tokenUrl, oidcAuthorizeUrl, oidcTokenUrl, issuer, jwksUrl, userInfoUrl } = mock;
const announced = { origin, authorizeUrl, tokenUrl, oidcAuthorizeUrl, oidcTokenUrl, issuer, jwksUrl, userInfoUrl, control: `http://127.0.0.1:${control.address().port}` };
process.stdout.write(`${JSON.stringify(announced)}\n`);
const stop = () => {
  control.close();
  agent.destroy();
  mock.close().then(() => process.exit(0));
};
process.stdin.on('end', stop).on('close', stop).resume();
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
