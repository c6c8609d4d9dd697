"""The "skip to …" link a page puts first, so keyboard users reach its main view in one Tab.

The link is hidden until focused (``.skip-link`` in ``assets/shell.css``); its target must be
focusable (``tabIndex="-1"`` on a plain element) for the browser to move focus there.
"""

from __future__ import annotations

from dash import html


def skip_link(target_id: str, text: str) -> html.A:
    """An ``<a href="#target_id">`` shown on focus, to put first in a page's root."""
    if not target_id or any(c.isspace() for c in target_id):
        raise ValueError(f"a skip link needs an element id, not {target_id!r}")
    return html.A(text, href=f"#{target_id}", className="skip-link")
