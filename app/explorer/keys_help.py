"""The Explorer's keyboard shortcuts: the one list the help dialog shows and the README documents.

``assets/explorer_input.js`` implements them page-wide: they act wherever the focus is, except
in a field that takes typing or arrow keys (a text or number box, a slider, a dropdown, a radio
button), where the key does its usual job. Space on a focused button presses that button.
"""

from __future__ import annotations

from dash import html

from app.explorer.ids import Ids

#: (keys, what they do), in the order the dialog lists them
SHORTCUTS: tuple[tuple[str, str], ...] = (
    ("Space or K", "play or pause"),
    ("→ / ←", "one step forward / back"),
    ("Shift + → / ←", "ten steps forward / back"),
    ("Home / End", "first / last step"),
    ("M", "move the focus to the map"),
    ("F", "full screen on or off"),
    ("?", "this list of keys"),
    ("Escape", "close this list, or leave full screen"),
)


def keys_button() -> html.Button:
    """The map toolbar's button that opens the shortcuts' dialog."""
    return html.Button(
        [html.Span("⌨", className="tool-icon", **{"aria-hidden": "true"}), " Keys"],
        id=Ids.KEYS_OPEN, className="tool-btn keys-open", n_clicks=0, title="Keyboard shortcuts (?)",
        **{"aria-haspopup": "dialog", "aria-controls": Ids.KEYS_DIALOG},
    )  # fmt: skip


def keys_dialog() -> html.Dialog:
    """A modal dialog (opened by ``assets/explorer_input.js``) with a table of :data:`SHORTCUTS`."""
    rows = [html.Tr([html.Th(html.Kbd(keys), scope="row"), html.Td(does)]) for keys, does in SHORTCUTS]
    return html.Dialog(
        id=Ids.KEYS_DIALOG, className="keys-dialog", **{"aria-labelledby": f"{Ids.KEYS_DIALOG}-title"},
        children=[
            html.H2("Keyboard shortcuts", id=f"{Ids.KEYS_DIALOG}-title"),
            html.P("They work anywhere on the page, except while typing in a field or moving a slider."),
            html.Table(className="keys-table", children=[html.Tbody(rows)]),
            html.Button("Close", id=Ids.KEYS_CLOSE, className="btn", n_clicks=0),
        ],
    )  # fmt: skip
