"""The plotly.js the pages load.

``make`` builds ``assets/vendor/`` from ``web/`` (see ``scripts/build-web.sh``): plotly's core
with the 2-D traces the pages draw, and the Explorer's 3-D traces as a chunk fetched on first
use.  When it was built, every page loads it as a module script and ``dcc.Graph`` uses it
instead of Dash's full plotly.js (parsed and started in ~0.2 s instead of ~1.7 s on a slow
laptop).  When it was not (no npm), or with ``DESCENT_LAB_PLOTLY=full`` in the environment,
nothing changes: Dash loads its full plotly.js.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

#: folder of the built bundle inside the assets folder: left out of Dash's asset scan (install loads
#: the entry, the entry its chunks); its files are .mjs, which no Dash app loads as classic scripts
VENDOR_DIR = "vendor"
#: the bundle's entry module
ENTRY = "plotly-lite.mjs"


#: environment variable: ``full`` makes the pages load Dash's full plotly.js instead of the bundle
CHOICE_ENV = "DESCENT_LAB_PLOTLY"


def entry_file(assets_dir: Path) -> Path | None:
    """The built entry module, or None if the bundle was not built (or ``DESCENT_LAB_PLOTLY=full``)."""
    if os.environ.get(CHOICE_ENV, "").strip().lower() == "full":
        return None
    path = Path(assets_dir) / VENDOR_DIR / ENTRY
    return path if path.is_file() else None


def install(dash_app: Any, assets_dir: Path) -> bool:
    """Load the built bundle on every page; False (and nothing changed) if there is none.

    The bundle is a ``<script type="module">`` among the page's scripts: the browser fetches it at
    once and runs it when the page has been parsed, while Dash's renderer is already asking for
    the layout; ``dcc.Graph`` looks for ``window.Plotly`` only once that layout has come and been
    rendered.  A module runs only once the page is parsed and its files have come, so on a busy
    server the layout could come first, and ``dcc.Graph`` would then load Dash's full plotly.js
    as well: Dash's renderer is therefore started once the bundle has run (:func:`renderer_after`).
    The URL carries the file's modification time, so browsers fetch a rebuilt bundle (its chunks
    have content hashes in their names).
    """
    entry = entry_file(assets_dir)
    if entry is None:
        return False
    src = f"{dash_app.get_asset_url(f'{VENDOR_DIR}/{ENTRY}')}?m={entry.stat().st_mtime_ns}"
    dash_app.config.external_scripts.append({"src": src, "type": "module"})
    dash_app.renderer = renderer_after(dash_app.renderer)
    return True


#: how long (ms) the renderer waits for a bundle that neither loads nor fails (then dcc.Graph loads
#: Dash's full plotly.js: slower, never broken)
BUNDLE_WAIT_MS = 15_000


def renderer_after(renderer: str) -> str:
    """Dash's renderer statement (``var renderer = new DashRenderer(…);``), run once the bundle's
    module script has run, or failed, or after :data:`BUNDLE_WAIT_MS`; at once when there is no
    bundle tag or ``window.Plotly`` is already set.

    The module tag precedes this inline script, and module scripts run only after the page has
    been parsed, so the listeners are always in place before the bundle's ``load`` event.
    """
    return (
        "(function () {"
        f'var bundle = document.querySelector(\'script[type="module"][src*="/{ENTRY}"]\');'
        "var started = false;"
        f"function start() {{ if (started) return; started = true; {renderer} }}"
        "if (!bundle || window.Plotly) { start(); return; }"
        "bundle.addEventListener('load', start);"
        "bundle.addEventListener('error', start);"
        f"setTimeout(start, {BUNDLE_WAIT_MS});"
        "})();"
    )
