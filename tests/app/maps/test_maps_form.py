"""The Sweep maps form as plain values: lessons, structural changes and the validated state."""

from __future__ import annotations

from dash import ALL, Input, State
from maps_helpers import form_of, rows_of

from app.explorer.state import OptimizerEntry
from app.maps.form import (
    ALL_FIELDS,
    FORM_FIELDS,
    OTHER_FIELDS,
    ROW_PATTERNS,
    STRUCTURAL,
    FormRows,
    field_deps,
    form_config,
    form_fields,
    form_rows,
    keyed,
    render_action,
    row_deps,
)
from app.maps.ids import Ids
from app.maps.presets import PRESETS_BY_NAME
from app.maps.state import DEFAULT_MAP, config_from_store, map_query, state_data


def test_lessons_and_structural_changes_of_the_form():
    store = state_data(DEFAULT_MAP)
    cfg, now = render_action({"type": "maps-preset", "name": "adam_beale"}, {}, FormRows(), store, 1)
    assert cfg == PRESETS_BY_NAME["adam_beale"].config and now is True
    assert render_action({"type": "maps-preset", "name": "nope"}, {}, FormRows(), store, 1) is None
    assert render_action({"type": "maps-preset", "name": "adam_beale"}, {}, FormRows(), store, None) is None

    form = form_of(DEFAULT_MAP)
    rows = rows_of(DEFAULT_MAP)
    form["optimizer"] = "momentum"
    cfg, now = render_action(Ids.OPTIMIZER, form, rows, store)
    assert not now and cfg.entry == OptimizerEntry.default("momentum", 0)
    assert (cfg.x_axis.key, cfg.y_axis.key) == ("lr", "momentum")
    form = form_of(cfg)
    form["surface"] = "quadratic"
    cfg2, _ = render_action(Ids.SURFACE, form, rows_of(cfg), state_data(cfg))
    assert cfg2.base.surface == "quadratic" and cfg2.base.start == (-9.0, 4.0) and cfg2.entry == cfg.entry
    # choosing the other axis's setting swaps the axes
    form = form_of(cfg2)
    form["ax_key"] = "momentum"
    cfg3, _ = render_action(Ids.AX_KEY, form, rows_of(cfg2), state_data(cfg2))
    assert (cfg3.x_axis.key, cfg3.y_axis.key) == ("momentum", "lr")
    assert render_action(Ids.GRID, form, rows_of(cfg2), state_data(cfg2)) is None


def test_form_values_become_a_validated_state():
    base = PRESETS_BY_NAME["momentum_quadratic"].config
    form, rows = form_of(base), rows_of(base)
    rows.hyper_numbers["lr"] = None  # the swept settings are blank in the form
    rows.hyper_numbers["momentum"] = None
    assert form_config(form, rows, base) == base
    form.update(grid=500, steps="x", ax_low=-1)
    cfg = form_config(form, rows, base)
    assert cfg.grid == 400 and cfg.base.steps == base.base.steps and cfg.x_axis.low > 0
    assert len(cfg.notes) == 3
    data = state_data(cfg)
    assert config_from_store(data) == cfg and data["query"] == map_query(cfg)


# --------------------------------------------------------------------------- the form as Dash passes it


def test_keyed_pairs_the_values_of_an_all_pattern_with_their_keys():
    ids = [{"type": "maps-hp", "key": "lr"}, {"type": "maps-hp", "key": "momentum"}]
    assert keyed([0.1, 0.9], ids) == {"lr": 0.1, "momentum": 0.9}
    # ids without a text key are skipped; missing lists give nothing
    assert keyed([1, 2, 3], [{"type": "maps-hp"}, {"type": "maps-hp", "key": 7}, "maps-grid"]) == {}
    assert keyed(None, None) == {} and keyed([1.0], []) == {}


def test_form_rows_unpacks_each_family_of_generated_rows():
    values = {"surface_params": [10.0, 30.0], "hyper_numbers": [0.1, None], "hyper_flags": [["on"]]}
    ids = {"surface_params": [{"type": "maps-sp", "key": "kappa"}, {"type": "maps-sp", "key": "angle"}],
           "hyper_numbers": [{"type": "maps-hp", "key": "lr"}, {"type": "maps-hp", "key": "momentum"}],
           "hyper_flags": [{"type": "maps-hf", "key": "nesterov"}]}  # fmt: skip
    rows = form_rows(values, ids)
    assert rows == FormRows({"kappa": 10.0, "angle": 30.0}, {"lr": 0.1, "momentum": None}, {"nesterov": ["on"]})
    assert [name for name, _ in ROW_PATTERNS] == ["surface_params", "hyper_numbers", "hyper_flags"]
    # a family the page does not show (no rows: Dash passes empty lists) is empty
    assert form_rows({"surface_params": [], "hyper_numbers": [], "hyper_flags": []}, {}) == FormRows()


def test_form_fields_merges_groups_in_form_order():
    fields = form_fields({"kind": "hyper", "optimizer": "adam"}, {"grid": 64, "kind": "basin"})
    assert list(fields) == [name for name, _ in FORM_FIELDS]
    assert fields["kind"] == "basin" and fields["optimizer"] == "adam" and fields["grid"] == 64
    assert fields["steps"] is None
    # the form of a configuration survives the trip through the groups the render callback receives
    form = form_of(DEFAULT_MAP)
    structural = {k: form[k] for k in STRUCTURAL}
    others = {k: v for k, v in form.items() if k not in STRUCTURAL}
    assert form_fields(structural, others) == form
    assert form_config(form_fields(structural, others), rows_of(DEFAULT_MAP), DEFAULT_MAP) == DEFAULT_MAP


def test_dependency_groups_name_every_field_and_row_family():
    fields = field_deps(State, ("kind", "grid"))
    assert list(fields) == ["kind", "grid"]
    assert (fields["grid"].component_id, fields["grid"].component_property) == (Ids.GRID, "value")
    assert isinstance(fields["kind"], State)
    assert set(ALL_FIELDS) == set(STRUCTURAL) | set(OTHER_FIELDS) and not set(STRUCTURAL) & set(OTHER_FIELDS)
    rows = row_deps(Input, "id")
    assert list(rows) == ["surface_params", "hyper_numbers", "hyper_flags"]
    assert rows["hyper_numbers"].component_id == {"type": "maps-hp", "key": ALL}
    assert rows["hyper_numbers"].component_property == "id" and isinstance(rows["hyper_flags"], Input)
