"""Every registered optimizer is offered, and runs, on every page that races optimizers and in the CLI.

Adding an optimizer is a registry entry, a kernel and its reference: this checks that nothing
else has to learn its name. (The lab's side, a real training race of each, is in
tests/app/lab/.)
"""

from __future__ import annotations

import json
import math

import pytest

from app.cli import main as cli_main
from app.explorer.compute import compute
from app.explorer.ids import Ids as ExplorerIds
from app.explorer.layout import page as explorer_page
from app.explorer.state import from_query
from app.maps.compute import run_request
from app.maps.ids import Ids as MapsIds
from app.maps.page import layout as maps_layout
from app.maps.state import map_from_query, request_data
from layout_tree import find
from optimizers.registry import SPECS

NAMES = [spec.name for spec in SPECS]


def offered(root, component_id) -> list[str]:
    dropdown = find(root, component_id)
    assert dropdown is not None, f"no component {component_id!r} in the layout"
    return [option["value"] for option in dropdown.options]


def test_the_explorer_and_the_maps_offer_every_registered_optimizer():
    assert offered(explorer_page(), ExplorerIds.ADD_CHOICE) == NAMES
    assert offered(maps_layout(), MapsIds.OPTIMIZER) == NAMES


@pytest.mark.parametrize("name", NAMES)
def test_the_explorer_races_every_optimizer_from_a_link(name):
    cfg = from_query(f"surface=himmelblau&start=-0.27,-0.92&steps=25&opt={name}")
    assert [entry.name for entry in cfg.optimizers] == [name] and not cfg.notes
    (run,) = compute(cfg).runs
    assert run.ok, run.error
    assert run.trajectory.positions.shape[1] == 2
    assert all(math.isfinite(v) for v in run.trajectory.losses)


@pytest.mark.parametrize("kind", ["basin", "hyper"])
@pytest.mark.parametrize("name", NAMES)
def test_the_maps_page_computes_a_map_of_every_optimizer(name, kind):
    cfg = map_from_query(f"kind={kind}&surface=himmelblau&start=-0.27,-0.92&steps=20&opt={name}&grid=8&show=loss")
    assert cfg.entry.name == name and cfg.kind == kind
    outcome = run_request(request_data(cfg))
    assert outcome.meta is not None, outcome.status
    heatmaps = [t for t in outcome.figure["data"] if t.get("type") == "heatmap"]
    assert heatmaps, outcome.status


def test_the_cli_lists_every_optimizer(capsys):
    assert cli_main(["list", "optimizers", "--format", "json"]) == 0
    listed = [item["name"] for item in json.loads(capsys.readouterr().out)]
    assert listed == NAMES


@pytest.mark.parametrize("name", NAMES)
def test_the_cli_traces_every_optimizer(name, capsys):
    assert cli_main(["trace", "--surface", "beale", "--optimizer", name, "--start", "1,1.5", "--steps", "20",
                     "--format", "json"]) == 0  # fmt: skip
    doc = json.loads(capsys.readouterr().out)
    assert doc["optimizer"]["name"] == name
    assert doc["columns"][:4] == ["step", "x", "y", "loss"] and len(doc["rows"]) >= 2
