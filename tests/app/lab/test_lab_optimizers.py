"""Every optimizer the registry has can race in the lab: offered, accepted from a link, shown on its card, trained."""

from __future__ import annotations

import base64
import io
import math

import numpy as np
import pytest
from dash import dcc, html
from layout_tree import walk

from app.hosting.kv import MemoryKV
from app.lab import cards, ids, jobs, limits, state, uploads
from app.lab.state import Notes
from optimizers.registry import SPECS


def _parts(card, kind):
    return [c for c in walk(card) if isinstance(getattr(c, "id", None), dict) and c.id.get("type") == kind]


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: s.name)
def test_every_registered_optimizer_is_offered_accepted_and_shown_with_its_card_keys(spec):
    card = cards.opt_card(0, {"name": spec.name}, total=2)
    (dropdown,) = _parts(card, ids.OPT_NAME)
    assert isinstance(dropdown, dcc.Dropdown) and dropdown.value == spec.name
    assert [o["value"] for o in dropdown.options] == [s.name for s in SPECS]  # the dropdown offers every optimizer
    # a link (or the form) naming it is accepted, with the learning rate and the card keys the registry lists
    notes = Notes()
    (choice,) = state.sanitize_opts(spec.name, notes)
    assert notes.result() == [] and choice.name == spec.name
    assert [k for k, _ in choice.values] == ["lr", *spec.card_keys]
    choice.config()
    # its card has a field for the learning rate and each card key, with the registry's defaults
    fields = [f for f in walk(card) if isinstance(f, dcc.Input) and isinstance(f.id, dict)]
    shown = [(f.id["type"], f.value) for f in fields if not getattr(f, "disabled", False)]
    expected = [(ids.OPT_LR, spec.param("lr").default_value())]
    expected += [(kind, spec.param(key).default_value()) for kind, key in zip(ids.OPT_KEY_FIELDS, spec.card_keys)]
    assert shown == expected
    labels = " ".join(str(c.children) for c in walk(card) if isinstance(c, html.Span))
    assert all(key in labels or key.replace("_", " ") in labels for key in spec.card_keys)


def _tiny_upload(kv) -> dict:
    """A small synthetic file (40 samples × 6 features): every optimizer's model is tiny, even Newton's."""
    buf = io.BytesIO()
    np.save(buf, np.random.default_rng(0).random((40, 6)))
    return uploads.accept_upload(kv, "data:;base64," + base64.b64encode(buf.getvalue()).decode(), "tiny.npy")


def test_every_registered_optimizer_trains_in_a_tiny_race_with_finite_losses():
    kv = MemoryKV()
    ref = _tiny_upload(kv)
    names = [s.name for s in SPECS]
    seen = set()
    for start in range(0, len(names), limits.MAX_OPTIMIZERS):  # as many races as it takes, each one full
        race = names[start:start + limits.MAX_OPTIMIZERS]
        query = {"data": "file", "samples": str(limits.MIN_SAMPLES * 2), "hidden": "2", "epochs": "1",
                 "batch": "20", "opt": ",".join(race)}  # fmt: skip
        assert state.sanitize(query)[1] == []
        out = jobs.run_job(query, ref, kv=kv, token=None, push=lambda *update: None)
        assert out["ok"], out["status"]
        assert "diverged" not in out["status"]
        curves = [t for t in out["loss"]["data"] if t.get("legendgroup", "").startswith("run")]
        assert len(curves) == 2 * len(race)  # training and validation for each
        for curve in curves:
            assert len(curve["y"]) == 2 and all(v is not None and math.isfinite(v) for v in curve["y"]), curve["name"]
        seen.update(t["name"] for t in curves)
    assert seen == {s.display_name for s in SPECS}


def test_a_card_for_a_name_the_registry_does_not_know_shows_a_stand_in_and_says_so():
    card = cards.opt_card(1, {"name": "evil<script>", "lr": "x"}, total=2)
    (dropdown,) = _parts(card, ids.OPT_NAME)
    assert dropdown.value == cards.STAND_IN
    notes = [c for c in walk(card) if isinstance(c, html.P) and "is not an optimizer" in str(c.children)]
    assert len(notes) == 1 and "Adam stands in" in notes[0].children
    lr = _parts(card, ids.OPT_LR)[0]
    assert lr.value == 0.001  # the stand-in's own defaults, not the unknown optimizer's values
    # a known optimizer's card says nothing of the kind
    assert not [c for c in walk(cards.opt_card(0, {"name": "sgd"}, 1)) if isinstance(c, html.P)]
    # the fields of a card are rebuilt only for a registered optimizer
    assert cards.fields_for("evil", "adam", {"type": ids.OPT_NAME, "index": 1}) is None
    fields, built_for = cards.fields_for("rmsprop", "adam", {"type": ids.OPT_NAME, "index": 1})
    assert built_for == "rmsprop" and fields[1].children[1].id == ids.card_id(ids.OPT_P1, 1)


def test_a_hessian_free_race_says_its_cg_iterations_per_step_on_the_page():
    kv = MemoryKV()
    ref = _tiny_upload(kv)
    query = {"data": "file", "samples": str(limits.MIN_SAMPLES * 2), "hidden": "2", "epochs": "2",
             "batch": "20", "opt": "hessian_free,sgd"}  # fmt: skip
    out = jobs.run_job(query, ref, kv=kv, token=None, push=lambda *update: None)
    assert out["ok"], out["status"]
    notes = [part for part in out["summary"].split(". ") if "CG iterations per step" in part]
    assert len(notes) == 1 and notes[0].startswith("Hessian-free")
    mean = float(notes[0].split(": ")[1].split(" CG")[0])
    low = int(notes[0].split("(min ")[1].split(",")[0])
    high = int(notes[0].split("max ")[1].split(")")[0])
    assert 1 <= low <= mean <= high <= 50
