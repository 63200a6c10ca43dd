#!/usr/bin/env bash
# Refresh the vendored htmx from the npm registry (no JavaScript build step at run time).
# Usage: scripts/vendor-htmx.sh [VERSION]   (default: the version in src/atopic/web/static/VENDORED)
set -euo pipefail
version="${1:-2.0.11}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
(cd "$work" && npm pack "htmx.org@${version}" --silent >/dev/null && tar xzf htmx.org-*.tgz)
cp "$work/package/dist/htmx.min.js" src/atopic/web/static/htmx.min.js
cp "$work/package/LICENSE" src/atopic/web/static/htmx.LICENSE
echo "htmx.org ${version} sha256 $(sha256sum src/atopic/web/static/htmx.min.js | cut -d' ' -f1)" \
  > src/atopic/web/static/VENDORED
cat src/atopic/web/static/VENDORED
