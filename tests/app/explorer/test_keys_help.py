"""The keyboard shortcuts' dialog lists every shortcut, is named by its heading and opens from the toolbar."""

from __future__ import annotations

from pathlib import Path

from app.explorer.ids import Ids
from app.explorer.keys_help import SHORTCUTS, keys_button, keys_dialog
from app.explorer.layout import page

ROOT = Path(__file__).resolve().parents[3]


def walk(root):
    """The root and every component under it."""
    yield root
    yield from root._traverse()


def _text(component) -> str:
    children = getattr(component, "children", None)
    if children is None:
        return ""
    if isinstance(children, str):
        return children
    items = children if isinstance(children, list) else [children]
    return "".join(c if isinstance(c, str) else _text(c) for c in items)


def test_the_dialog_has_one_row_per_shortcut_in_order():
    dialog = keys_dialog()
    rows = [c for c in walk(dialog) if type(c).__name__ == "Tr"]
    assert [(_text(r.children[0]), _text(r.children[1])) for r in rows] == list(SHORTCUTS)
    assert all(r.children[0].scope == "row" for r in rows)


def test_the_dialog_is_named_by_its_heading_and_the_button_says_what_it_opens():
    dialog = keys_dialog()
    title = next(c for c in walk(dialog) if type(c).__name__ == "H2")
    assert getattr(dialog, "aria-labelledby") == title.id and _text(title) == "Keyboard shortcuts"
    button = keys_button()
    assert getattr(button, "aria-haspopup") == "dialog" and getattr(button, "aria-controls") == Ids.KEYS_DIALOG
    assert "Keys" in _text(button)


def test_the_page_carries_the_dialog_and_a_polite_summary_and_the_board_is_not_live():
    ids = {c.id: c for c in walk(page()) if isinstance(getattr(c, "id", None), str)}
    assert Ids.KEYS_DIALOG in ids and Ids.KEYS_OPEN in ids
    summary = ids[Ids.RACE_SUMMARY]
    assert getattr(summary, "aria-live") == "polite" and getattr(summary, "aria-atomic") == "true"
    assert not hasattr(ids[Ids.LEGEND], "aria-live")


def test_every_shortcut_key_is_handled_by_the_script():
    script = (ROOT / "assets" / "explorer_input.js").read_text(encoding="utf-8")
    for key in ('"?"', '" "', '"k"', '"ArrowRight"', '"ArrowLeft"', '"Home"', '"End"', '"m"', '"f"'):
        assert f"key === {key}" in script, key
