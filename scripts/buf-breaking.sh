#!/usr/bin/env bash
# Holds the contract to its word: the proto as it stands must not break callers of the proto as it was
# before its last change (or, with uncommitted proto edits, as it is in HEAD). WIRE_JSON rules, see buf.yaml.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! git diff --quiet HEAD -- proto 2>/dev/null; then
  against=HEAD
else
  last_change=$(git log -1 --format=%H -- proto)
  if ! git rev-parse --verify --quiet "${last_change}^" >/dev/null; then
    echo "buf breaking: proto/ first appeared in ${last_change:0:12}; nothing earlier to compare with"
    exit 0
  fi
  against="${last_change}^"
fi

if ! git cat-file -e "${against}:proto/credits/v1/credits.proto" 2>/dev/null; then
  echo "buf breaking: ${against} has no credits.proto; nothing to compare with"
  exit 0
fi
echo "buf breaking: proto/ against $(git rev-parse --short "$against")"
npx buf breaking proto --against ".git#ref=$(git rev-parse "$against"),subdir=proto"
