#!/usr/bin/env bash
# Vendor the browser libraries Trove serves itself (never from a CDN): Cytoscape.js and its
# fcose layout (the graph), Leaflet, its marker clusters, topojson-client and Natural Earth's
# 1:110m countries from world-atlas (the map, drawn without tiles), and Uppy (core, Dashboard,
# TUS: the uploader) bundled by esbuild into one script and one stylesheet, at the exact
# versions of package-lock.json, into src/trove/ui/static/vendor/ (git-ignored; this script
# is the one way it is made).
#
#   scripts/vendor-js.sh          a fast no-op when the vendored files are newer than the lock
#
# npm comes with Debian's `nodejs` + `npm` (scripts/install-system.sh installs them when absent).
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

OUT=src/trove/ui/static/vendor
STAMP="$OUT/.stamp"
# package-path:file-in-the-package pairs, in the order a page loads them.
FILES=(
  "cytoscape/dist/cytoscape.min.js"
  "layout-base/layout-base.js"
  "cose-base/cose-base.js"
  "cytoscape-fcose/cytoscape-fcose.js"
  "leaflet/dist/leaflet.js"
  "leaflet/dist/leaflet.css"
  "leaflet.markercluster/dist/leaflet.markercluster.js"
  "leaflet.markercluster/dist/MarkerCluster.css"
  "leaflet.markercluster/dist/MarkerCluster.Default.css"
  "topojson-client/dist/topojson-client.min.js"
  "world-atlas/countries-110m.json"
)

if [ -f "$STAMP" ] && [ "$STAMP" -nt package-lock.json ] && [ "$STAMP" -nt "$0" ]; then
  exit 0
fi
if ! command -v npm >/dev/null 2>&1; then
  echo "vendor-js.sh: npm is missing; run scripts/install-system.sh runtime (as root)" >&2
  exit 1
fi

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cp package.json package-lock.json "$work/"
# --ignore-scripts: nothing from the registry runs here; ci: exactly the lock, integrity-checked.
(cd "$work" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error >/dev/null)

mkdir -p "$OUT"
for file in "${FILES[@]}"; do
  cp "$work/node_modules/$file" "$OUT/$(basename "$file")"
done
# Uppy ships ES modules only: one IIFE bundle (window.TroveUppy) from scripts/uppy-entry.mjs.
cp scripts/uppy-entry.mjs "$work/"
(cd "$work" && node_modules/.bin/esbuild uppy-entry.mjs --bundle --minify --format=iife \
  --target=es2020 --legal-comments=none --log-level=warning --outfile=uppy.min.js)
cp "$work/uppy.min.js" "$OUT/uppy.min.js"
cat "$work/node_modules/@uppy/core/dist/style.min.css" \
  "$work/node_modules/@uppy/dashboard/dist/style.min.css" > "$OUT/uppy.min.css"
for package in cytoscape cytoscape-fcose cose-base layout-base leaflet leaflet.markercluster \
  topojson-client world-atlas @uppy/core @uppy/dashboard @uppy/tus tus-js-client preact; do
  for licence in LICENSE LICENSE.md MIT-LICENCE.txt; do
    if [ -f "$work/node_modules/$package/$licence" ]; then
      cp "$work/node_modules/$package/$licence" "$OUT/LICENSE.${package//\//-}"
      break
    fi
  done
done
touch "$STAMP"
echo "vendor-js.sh: vendored ${#FILES[@]} files and the Uppy bundle into $OUT"
