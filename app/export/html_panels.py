"""The diagnostic panels of an HTML export: the page's six step-axis figures in a grid under the animated map."""

from __future__ import annotations

from typing import Any


def diagnostics_html(result: Any) -> str:
    """The page's diagnostic panels (loss, ‖∇f‖, distance, effective lr, stability, error split), each a
    small figure, in a grid under the animated map of an HTML export (plotly.js is already on the page)."""
    import plotly.io as pio

    from app.explorer.diagnostics import diagnostics_panels

    cells = []
    for panel in diagnostics_panels(result):
        layout = {**panel["layout"], "height": 260, "autosize": True}
        fig = {"data": panel["data"], "layout": layout}
        config = {"displaylogo": False, "responsive": True}
        cells.append('<div style="min-width:0">'
                     + pio.to_html(fig, include_plotlyjs=False, full_html=False, validate=False, config=config)
                     + "</div>")
    # auto-fill, not auto-fit: each panel is drawn before the next exists, and auto-fit would give it the full width
    return ('<section aria-label="diagnostic panels" style="display:grid;grid-template-columns:'
            'repeat(auto-fill,minmax(320px,1fr));gap:8px;margin:8px">' + "".join(cells) + "</section>")
