"""The lab's shape: its header and links, its clientside JavaScript, its callbacks' style, its module sizes."""

from __future__ import annotations

import inspect
import re
from pathlib import Path

import pytest
from dash import Dash, html
from layout_tree import walk

from app.lab import page as lab_page
from app.lab.ids import OPT_FOR, OPT_LR, OPT_NAME, OPT_P1, OPT_P2, OPT_PARAMS, OPT_REMOVE, Ids
from app.shell.assets import ASSETS_DIR

LAB_JS = ASSETS_DIR / "lab.js"
LAB_DIR = Path(lab_page.__file__).parent


@pytest.fixture
def lab_app(tmp_path):
    import diskcache
    from dash import DiskcacheManager

    return lab_page.standalone_app(DiskcacheManager(diskcache.Cache(str(tmp_path))), warm_up=False)


def test_the_lab_has_the_header_of_every_page_with_links_to_the_others():
    page = lab_page.layout({})
    (header,) = [c for c in walk(page) if isinstance(c, html.Header)]
    assert header.className == "lab-top"
    assert [c.children for c in walk(header) if isinstance(c, html.H1)] == ["Descent Lab"]
    assert lab_page.TITLE in [c.children for c in walk(header) if isinstance(c, html.Span)]
    (nav,) = [c for c in walk(header) if isinstance(c, html.Nav)]
    assert nav.to_plotly_json()["props"]["aria-label"] == "Pages"
    links = {a.href: a.children for a in walk(nav) if isinstance(a, html.A)}
    assert links == {"/": "Explorer", "/maps": "Sweep maps", "/lessons": "Lessons"}  # every page but this one
    assert all(a.className == "lab-page-link" for a in walk(nav) if isinstance(a, html.A))
    css = (ASSETS_DIR / "lab.css").read_text()
    for rule in (".lab-page .lab-top", ".lab-page .lab-page-link:hover, .lab-page .lab-page-link:focus-visible"):
        assert rule in css, rule


def test_lab_js_writes_no_component_id_and_defines_every_clientside_function_the_lab_uses(tmp_path):
    js = LAB_JS.read_text()
    known = {i.value for i in Ids} | {OPT_NAME, OPT_LR, OPT_P1, OPT_P2, OPT_FOR, OPT_PARAMS, OPT_REMOVE}
    # the ids come in as arguments: any id-like string in the file must at least be one of the page's
    written = set(re.findall(r"""["'#](lab-[a-z0-9-]+)""", js))
    assert written <= known, written - known
    assert not written, f"lab.js should take its ids as arguments, not write {sorted(written)}"
    import diskcache
    from dash import DiskcacheManager

    app = Dash("lab-js", background_callback_manager=DiskcacheManager(diskcache.Cache(str(tmp_path))))
    lab_page.register_callbacks(app)
    used = {c["clientside_function"]["function_name"] for c in app._callback_list
            if c.get("clientside_function") and c["clientside_function"]["namespace"] == "lab"}  # fmt: skip
    assert used == {"browserId", "guardUpload", "pickLandscape"}
    exported = re.search(r"window\.dash_clientside\.lab = \{([^}]*)\}", js)
    assert exported, "lab.js must define window.dash_clientside.lab"
    assert {k.strip() for k in re.findall(r"(\w+)\s*:", exported.group(1))} == used
    # no JavaScript left inline in the lab's Python
    for path in LAB_DIR.glob("*.py"):
        assert "function (" not in path.read_text() and "function(" not in path.read_text(), path.name
    # the ids each clientside function needs are passed as the components' own "id" (and the upload's limit)
    states = {c["clientside_function"]["function_name"]: [(s["id"], s["property"]) for s in c["state"]]
              for c in app._callback_list if c.get("clientside_function")}  # fmt: skip
    assert states["browserId"] == [(Ids.BROWSER, "data"), (Ids.BROWSER, "id")]
    assert states["guardUpload"] == [(Ids.UPLOAD, "id"), (Ids.UPLOAD_MSG, "id"), (Ids.UPLOAD, "max_size")]


def test_the_standalone_lab_serves_its_javascript(lab_app):
    client = lab_app.server.test_client()
    index = client.get("/").get_data(as_text=True)
    assert re.search(r'<script src="/assets/lab\.js\?m=\d+', index), "the standalone page does not load lab.js"
    served = client.get("/assets/lab.js")
    assert served.status_code == 200 and b"window.dash_clientside.lab" in served.get_data()


def test_every_lab_module_stays_under_500_lines():
    sizes = {p.name: len(p.read_text().splitlines()) for p in LAB_DIR.glob("*.py")}
    assert {"page.py", "callbacks.py", "layout.py", "state.py", "jobs.py", "queue.py", "figures.py"} <= set(sizes)
    assert all(n <= 500 for n in sizes.values()), {k: n for k, n in sizes.items() if n > 500}


def test_the_lab_callbacks_take_named_inputs(tmp_path):
    import diskcache
    from dash import DiskcacheManager

    app = Dash("lab-style", background_callback_manager=DiskcacheManager(diskcache.Cache(str(tmp_path))))
    lab_page.register_callbacks(app)
    server_side = [c for c in app.callback_map.values() if "callback" in c]
    assert len(server_side) == 14
    for cb in server_side:
        function = inspect.unwrap(cb["callback"])
        # flexible signatures: every input and state has a name (Dash keeps the grouping for the call)
        assert isinstance(cb["inputs_state_indices"], dict), function.__name__
        # and the body only gathers, calls and returns
        lines, _ = inspect.getsourcelines(function)
        body = lines[next(i for i, line in enumerate(lines) if line.lstrip().startswith("def ")) + 1:]
        assert len(body) <= 30, (function.__name__, len(body))
