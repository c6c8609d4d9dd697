"""The names the Explorer's Python and its browser script share come from app/explorer/ids.py only."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from dash.development.base_component import Component

from app.explorer import ids
from app.explorer.ids import BROWSER_NAMES, NAMES_ATTRIBUTE, BrowserIds, Group, Hooks, Ids, Kind
from app.explorer.layout import page
from app.explorer.state import DEFAULT

ROOT = Path(__file__).resolve().parents[3]
MAIN_SCRIPT = (ROOT / "assets" / "explorer.js").read_text(encoding="utf-8")
DATA_SCRIPT = (ROOT / "assets" / "data_panel.js").read_text(encoding="utf-8")
LAYOUT_SCRIPT = (ROOT / "assets" / "explorer_layout.js").read_text(encoding="utf-8")
#: the one script that reads the names off the page (loaded first: Dash loads assets in sorted order)
NAMES_SCRIPT = (ROOT / "assets" / "_explorer_names.js").read_text(encoding="utf-8")
#: page-wide keys, the shortcuts' dialog, tap and drag on the map, the spoken summary
INPUT_SCRIPT = (ROOT / "assets" / "explorer_input.js").read_text(encoding="utf-8")
#: the basins layer: asked for after every race, drawn as the map's second image, its caption
BASINS_SCRIPT = (ROOT / "assets" / "explorer_basins.js").read_text(encoding="utf-8")
#: the Explorer's scripts that look names up (data_panel.js: the data panel, epoch marks, minibatch contours;
#: explorer_layout.js: sidebar collapse, full screen, the narrow screens' jump switch)
SCRIPT = "\n".join((MAIN_SCRIPT, DATA_SCRIPT, LAYOUT_SCRIPT, INPUT_SCRIPT, BASINS_SCRIPT))

#: a JavaScript string literal, or a comment (matched so that quotes in comments are skipped)
_TOKEN = re.compile(r"""(?P<s>"(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)*')|//[^\n]*|/\*.*?\*/""", re.S)


def _literals(source: str) -> set[str]:
    return {m.group("s")[1:-1] for m in _TOKEN.finditer(source) if m.group("s")}


def _shared_values() -> set[str]:
    values = {str(v) for v in BROWSER_NAMES.values()}
    values |= {str(m) for enum in (Ids, BrowserIds, Hooks, Kind, Group) for m in enum}
    return values | {ids.RACE_ROUTE, ids.BASINS_ROUTE, ids.PAGE_REV}


def test_the_literal_finder_sees_strings_not_comments():
    found = _literals('var a = "x-y"; // "not-me"\n/* "nor-me" */ f(\'z\', "q\\"r");')
    assert found == {"x-y", "z", 'q\\"r'}


def test_the_script_spells_out_no_shared_name():
    literals = _literals(SCRIPT)
    assert literals & _shared_values() == set()
    # nor inside a selector: "#map-wrap canvas", ".notice-close", "[data-card-status]"
    in_selectors = {v for v in _shared_values() for lit in literals if re.search(rf"[#.\[]{re.escape(v)}\b", lit)}
    assert in_selectors == set()


def test_the_script_reads_every_shared_name_and_only_those():
    used = set(re.findall(r"\bnames\(\)\.(\w+)", SCRIPT))
    assert used == set(BROWSER_NAMES)


def test_the_script_finds_the_names_where_the_page_puts_them():
    assert f'"{NAMES_ATTRIBUTE}"' in NAMES_SCRIPT
    for script in (MAIN_SCRIPT, DATA_SCRIPT, LAYOUT_SCRIPT, INPUT_SCRIPT):  # each asks the names script
        assert NAMES_ATTRIBUTE not in script.split("*/", 1)[1] and "DescentExplorerNames.get()" in script
    assets = sorted(p.name for p in (ROOT / "assets").glob("*.js"))
    assert assets[0] == "_explorer_names.js", assets  # before the scripts that read it as they load
    root = page(DEFAULT)
    carried = json.loads(getattr(root, NAMES_ATTRIBUTE))
    assert carried == {k: str(v) for k, v in BROWSER_NAMES.items()}
    assert carried["mapWrap"] == "map-wrap" and carried["race"] == "_descent/race" and carried["hyper"] == "hp"
    assert json.loads(ids.names_json()) == carried


@pytest.mark.parametrize("function", ["clickStart", "loadPayload"])
def test_the_clientside_functions_exist_in_their_namespace(function):
    namespace = MAIN_SCRIPT[MAIN_SCRIPT.index(f"{ids.CLIENTSIDE_NAMESPACE}: {{") :]
    assert re.search(rf"\b{function}: function\b", namespace)


def test_the_fast_path_route_is_the_served_one():
    from app.explorer import fastpath

    assert fastpath.ROUTE == ids.RACE_ROUTE == "/" + BROWSER_NAMES["race"]


def _ids(node, out):
    if isinstance(node, (list, tuple)):
        for child in node:
            _ids(child, out)
    elif isinstance(node, Component):
        if isinstance(getattr(node, "id", None), str):
            out.add(node.id)
        _ids(getattr(node, "children", None), out)
    return out


def test_names_carry_no_duplicates_and_the_layout_has_every_id():
    values = [str(v) for v in BROWSER_NAMES.values()]
    assert len(values) == len(set(values))
    in_layout = _ids(page(DEFAULT), set())
    assert {v for v in BROWSER_NAMES.values() if isinstance(v, Ids)} - in_layout == set()
    assert BrowserIds.SCRUBBER_RANGE not in in_layout  # the script makes it
