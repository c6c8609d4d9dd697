#!/bin/sh
# Build assets/vendor/: the compact plotly.js the pages load (web/plotly-lite.mjs) and the
# regenerator runtime they load instead of Dash's whole polyfill (app/page_shell.py), from the
# versions pinned in web/package-lock.json.  Without npm the app still works: Dash then loads
# its full plotly.js, and the first page takes longer to draw.
set -e
cd "$(dirname "$0")/../web"
if ! command -v npm >/dev/null 2>&1; then
    echo "npm not found: skipping the compact plotly.js bundle (pages will load the full plotly.js," >&2
    echo "which draws the first page more slowly). Install Node.js and npm, then run make again." >&2
    exit 0
fi
build() {
    # (set -e does not hold inside an if: every step is chained)
    # npm ci again only when the pinned versions changed since the last install;
    # ESM with code splitting: the 3-D traces become a chunk that shares plotly's core with the page;
    # .mjs, so that no Dash app scanning assets/ loads these modules as classic scripts
    { [ node_modules/.package-lock.json -nt package-lock.json ] || npm ci --no-audit --no-fund --loglevel=error; } &&
    rm -rf ../assets/vendor &&
    node_modules/.bin/esbuild plotly-lite.mjs --bundle --splitting --format=esm --minify --target=es2020 \
        --define:global=globalThis --loader:.css=empty --outdir=../assets/vendor \
        --entry-names='[name]' --chunk-names='[name]-[hash]' --out-extension:.js=.mjs --log-level=warning &&
    # a classic script (it sets the global regeneratorRuntime), minified, not bundled
    node_modules/.bin/esbuild node_modules/regenerator-runtime/runtime.js --minify --target=es2020 \
        --outfile=../assets/vendor/regenerator-runtime.js --log-level=warning
}
if build; then
    echo "built assets/vendor/ (plotly.js $(node -p 'require("plotly.js/package.json").version'))"
else
    rm -rf ../assets/vendor  # never half a bundle: the pages load the full plotly.js instead
    echo "the compact plotly.js bundle could not be built (see above): pages will load the full plotly.js" >&2
fi
