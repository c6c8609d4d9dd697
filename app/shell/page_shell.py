"""The HTML page every view starts from: Dash's index page, with the regenerator runtime alone.

Dash's pages begin by loading ``@babel/polyfill``: core-js 2 and the regenerator runtime, for
browsers older than ES2017.  The browsers the app supports have core-js's features built in,
so for them it is only start-up work: about 0.1 s of script on a laptop, before Dash's renderer
may ask for the layout.  What Dash's renderer and components do need from it is
``regeneratorRuntime``, which their compiled async functions call.  When ``make`` has built ``assets/vendor/`` (see ``scripts/build-web.sh``), the
pages load that runtime alone, in the polyfill's place.  Otherwise nothing changes.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from dash import Dash

from app.shell.plotly_bundle import VENDOR_DIR

#: the built regenerator runtime, in the vendor folder
RUNTIME = "regenerator-runtime.js"

#: the script tag of Dash's @babel/polyfill (served locally or from a CDN)
POLYFILL_TAG = re.compile(r'<script src="[^"]*/polyfill@7[^"]*"></script>')


def runtime_file(assets_dir: Path) -> Path | None:
    """The built runtime, or None when ``assets/vendor/`` was not built."""
    path = Path(assets_dir) / VENDOR_DIR / RUNTIME
    return path if path.is_file() else None


def swap_polyfill(scripts: str, runtime_src: str) -> str:
    """``scripts`` (the page's script tags) with the polyfill's tag replaced by the runtime's, in
    the same place (before React and everything that calls the runtime); unchanged if absent."""
    tag = f'<script src="{runtime_src}"></script>'
    return POLYFILL_TAG.sub(lambda _: tag, scripts, count=1)


#: the language of every page (screen readers pick their voice and rules from it)
LANG = "en"


#: the theme script's tag among Dash's asset scripts (``assets/theme.js``, fingerprinted or not)
THEME_TAG = re.compile(r'<script src="[^"]*/theme\.js(?:\?[^"]*)?"></script>\s*')


def theme_first(kwargs: dict[str, Any]) -> dict[str, Any]:
    """Dash's index parts with the theme script moved from the body's scripts to the end of the
    head, so the page is drawn in its theme from the first paint (it only sets an attribute on
    ``<html>`` and listens; it needs nothing the other scripts define)."""
    scripts = kwargs.get("scripts", "")
    found = THEME_TAG.search(scripts)
    if found is None:
        return kwargs
    return {**kwargs, "scripts": scripts[: found.start()] + scripts[found.end() :],
            "css": kwargs.get("css", "") + found.group(0).strip()}  # fmt: skip


def with_lang(index: str, lang: str = LANG) -> str:
    """The index page with ``lang`` on its ``<html>`` tag (Dash's default template has none)."""
    return re.sub(r"<html(?![^>]*\blang=)", f'<html lang="{lang}"', index, count=1)


class ShellDash(Dash):
    """Dash, serving its index page in :data:`LANG`, the theme script in its head (:func:`theme_first`),
    and with the regenerator runtime instead of the whole polyfill once :func:`install` found the
    built runtime (Dash's documented ``interpolate_index`` hook)."""

    runtime_src: str | None = None

    def interpolate_index(self, **kwargs: Any) -> str:
        if self.runtime_src is not None and "scripts" in kwargs:
            kwargs["scripts"] = swap_polyfill(kwargs["scripts"], self.runtime_src)
        return with_lang(super().interpolate_index(**theme_first(kwargs)))


def install(dash_app: ShellDash, assets_dir: Path) -> bool:
    """Serve the built runtime in the polyfill's place; False (and nothing changed) if there is none.

    The URL carries the file's modification time, so browsers fetch a rebuilt runtime.
    """
    path = runtime_file(assets_dir)
    if path is None:
        return False
    dash_app.runtime_src = f"{dash_app.get_asset_url(f'{VENDOR_DIR}/{RUNTIME}')}?m={path.stat().st_mtime_ns}"
    return True
