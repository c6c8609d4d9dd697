"""The house rules of the code base, checked on the sources themselves.

- no module in ``app/`` is longer than :data:`MAX_LINES` lines;
- no import cycle among the project's modules, function-level imports included;
- the layers depend downwards only: ``surfaces`` ← ``optimizers`` ← ``autoencoder`` ← ``app``;
- within ``app``, the shared packages (``shell``) import no page, and a page imports another
  page only through that page's URL codec (``app.explorer.state``: how pages link to the Explorer).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("surfaces", "optimizers", "autoencoder", "app")
LAYER = {name: rank for rank, name in enumerate(PACKAGES)}
MAX_LINES = 500
PAGES = ("app.explorer", "app.maps", "app.lab", "app.lessons")
#: what one page may import of another: the Explorer's URL codec and its race (the lesson player judges
#: predictions on the very runs the Explorer shows), and the pages' ids (shared with scripts that embed them)
PAGE_API = {"app.explorer.state", "app.explorer.compute", "app.explorer.ids", "app.maps.ids"}


def module_files() -> dict[str, Path]:
    out = {}
    for pkg in PACKAGES:
        for path in sorted((ROOT / pkg).rglob("*.py")):
            parts = list(path.relative_to(ROOT).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            out[".".join(parts)] = path
    return out


MODULES = module_files()


def _target(name: str) -> str | None:
    """The project module an imported dotted name lands in (a module, else its package)."""
    while name:
        if name in MODULES:
            return name
        name = name.rpartition(".")[0]
    return None


def imports_of(module: str) -> set[str]:
    """Project modules ``module`` imports anywhere in its source (function bodies included)."""
    path = MODULES[module]
    tree = ast.parse(path.read_text(), filename=str(path))
    is_pkg = path.name == "__init__.py"
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = module.split(".") if is_pkg else module.split(".")[:-1]
                anchor = anchor[: len(anchor) - (node.level - 1)]
                base = ".".join(anchor + ([base] if base else []))
            # `from pkg import mod` names a module; `from mod import name` names the module
            names = [f"{base}.{alias.name}" if f"{base}.{alias.name}" in MODULES else base for alias in node.names]
        else:
            continue
        for name in names:
            target = _target(name)
            if target is not None and target != module:
                found.add(target)
    return found


GRAPH = {module: imports_of(module) for module in MODULES}


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import cycle as a list of modules (first = last), or None."""
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return stack[stack.index(nxt):] + [nxt]
            if nxt not in state:
                cycle = visit(nxt)
                if cycle:
                    return cycle
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state:
            cycle = visit(node)
            if cycle:
                return cycle
    return None


def test_find_cycle_finds_a_function_level_cycle_and_passes_a_tree():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b", "c"}, "b": {"c"}, "c": set()}) is None


def test_imports_of_sees_imports_inside_functions():
    assert "app.explorer.layout" in GRAPH["app"]  # create_app's imports are function-level


@pytest.mark.parametrize("module", sorted(m for m in MODULES if m.split(".")[0] == "app"))
def test_no_module_in_app_is_over_the_line_limit(module):
    lines = MODULES[module].read_text().count("\n")
    assert lines <= MAX_LINES, f"{MODULES[module].relative_to(ROOT)} has {lines} lines (limit {MAX_LINES})"


def test_there_is_no_import_cycle():
    assert find_cycle(GRAPH) is None, " → ".join(find_cycle(GRAPH) or ())


def test_layers_depend_downwards_only():
    upward = sorted((m, t) for m, ts in GRAPH.items() for t in ts if LAYER[t.split(".")[0]] > LAYER[m.split(".")[0]])
    assert upward == []


def _page_of(module: str) -> str | None:
    return next((p for p in PAGES if module == p or module.startswith(p + ".")), None)


def test_pages_reach_other_pages_only_through_their_url_codec():
    crossing = sorted((m, t) for m, ts in GRAPH.items() for t in ts
                      if _page_of(m) and _page_of(t) and _page_of(m) != _page_of(t) and t not in PAGE_API)  # fmt: skip
    assert crossing == []


def test_the_shared_shell_imports_no_page_and_nothing_above_it():
    shell = {m: ts for m, ts in GRAPH.items() if m.startswith("app.shell")}
    above = sorted((m, t) for m, ts in shell.items() for t in ts
                   if t.startswith("app") and not t.startswith("app.shell") and t != "app.version")  # fmt: skip
    assert above == []
