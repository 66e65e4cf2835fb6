#!/usr/bin/env bash
# `make dev`: the mock Freedom ID on 127.0.0.1:$MOCK_PORT, the demo site behind the gate on
# $DEMO_APP_PORT (verifying the gate's assertion with the packed npm package), then `wrangler dev` on $DEV_PORT. Stops them when wrangler stops (Ctrl-C).
# PROTOCOL=oidc (`make dev PROTOCOL=oidc`) runs the OpenID Connect flavour against the mock's
# OIDC endpoints, with its key set and user-info call; oauth2, the default, uses .dev.vars as it is.
set -euo pipefail
cd "$(dirname "$0")/.."
DEV_PORT="${DEV_PORT:-8787}"
MOCK_PORT="${MOCK_PORT:-8788}"
PROTOCOL="${PROTOCOL:-oauth2}"
mock_origin="http://127.0.0.1:$MOCK_PORT"

# Settings on top of .dev.vars (wrangler's --var wins over it): the mock's issuer is its origin.
flavour=()
case "$PROTOCOL" in
  oauth2) ;;
  oidc)
    flavour=(
      --var "FREEDOM_ID_PROTOCOL:oidc"
      --var "FREEDOM_ID_OIDC_AUTHORIZE_URL:$mock_origin/openid"
      --var "FREEDOM_ID_OIDC_TOKEN_URL:$mock_origin/api/v1/oidc/token"
      --var "FREEDOM_ID_ISSUER:$mock_origin"
      --var "FREEDOM_ID_JWKS_URL:$mock_origin/oidc/jwks.json"
      --var "FREEDOM_ID_USERINFO_URL:$mock_origin/api/v1/user/info"
    )
    ;;
  *)
    echo "PROTOCOL must be oauth2 or oidc, not \"$PROTOCOL\"." >&2
    exit 2
    ;;
esac

DEMO_APP_PORT="${DEMO_APP_PORT:-8789}"

# The demo site verifies the gate's assertion with the packed npm package, as a real site
# would: pkg/ (built if missing) packed and installed into target/dev-site, again only when
# pkg/ changed since.
site_dir=target/dev-site
[ -f pkg/package.json ] || bash scripts/build-npm.sh
if [ ! -f "$site_dir/.installed" ] || [ -n "$(find pkg -type f -newer "$site_dir/.installed" -print -quit)" ]; then
  echo "Installing the packed npm package into $site_dir for the demo site."
  rm -rf "$site_dir" && mkdir -p "$site_dir"
  tarball=$(cd "$site_dir" && npm pack "$OLDPWD/pkg" --silent --pack-destination .)
  echo '{"name":"dev-site","private":true}' > "$site_dir/package.json"
  (cd "$site_dir" && npm install --silent --no-audit --no-fund --offline "./$tarball")
  touch "$site_dir/.installed"
fi

node tests/support/mock-freedom-id.mjs --port "$MOCK_PORT" &
mock=$!
# The site behind the sign-in gate (FREEDOM_ID_PROTECT=/members in .dev.vars).
node tests/support/demo-app.mjs --port "$DEMO_APP_PORT" --package "$site_dir" --worker "http://127.0.0.1:$DEV_PORT" &
demo_app=$!
trap 'kill "$mock" "$demo_app" 2>/dev/null || true' EXIT
for _ in $(seq 50); do
  if ! kill -0 "$mock" 2>/dev/null; then
    echo "The mock Freedom ID could not start on 127.0.0.1:$MOCK_PORT (is the port in use?)." >&2
    exit 1
  fi
  curl -sf "http://127.0.0.1:$MOCK_PORT/healthz" >/dev/null && break
  sleep 0.1
done
if [ "$PROTOCOL" = oidc ]; then
  echo "The OpenID Connect flavour: signing in goes to the mock's $mock_origin/openid page (Allow or Decline)."
elif grep -q "127.0.0.1:$MOCK_PORT" .dev.vars; then
  echo "Signing in goes to the mock Freedom ID (.dev.vars points FREEDOM_ID_AUTHORIZE_URL at it)."
fi
if ! grep -q '^FREEDOM_ID_ASSERTION_KEY=' .dev.vars; then
  echo "Your .dev.vars has no FREEDOM_ID_ASSERTION_KEY, so the demo site's /members answers 401: copy it from .dev.vars.example." >&2
fi
echo "Open http://127.0.0.1:$DEV_PORT/ once wrangler says Ready; Ctrl-C stops both."
wrangler dev --ip 127.0.0.1 --port "$DEV_PORT" ${flavour[@]+"${flavour[@]}"}
