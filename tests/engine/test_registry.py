"""The optimizer registry: defaults from the published sources, validation, serialisation.

The expected defaults are written from the torch.optim documentation (torch 2.x
signatures), Chen et al. 2023 for Lion, and Nocedal & Wright for the line-search
constants, not copied from the registry.
"""

from __future__ import annotations

import dataclasses
import json
import math

import numpy as np
import pytest

from optimizers import Modifiers, get_spec, make_config, optimizer_names
from optimizers import _slots as slots

ALL = [
    "sgd", "momentum", "nesterov", "adagrad", "rmsprop", "adadelta", "adam", "adamw", "nadam", "adamax", "radam",
    "lion", "rprop", "delta_bar_delta", "sam", "schedulefree_sgd", "schedulefree_adamw", "newton", "cg", "lbfgs",
    "hessian_free",
]  # fmt: skip

# torch.optim.SGD(lr=1e-3, momentum=0, dampening=0, weight_decay=0, nesterov=False)
# torch.optim.Adagrad(lr=1e-2, lr_decay=0, weight_decay=0, initial_accumulator_value=0, eps=1e-10)
# torch.optim.RMSprop(lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0, momentum=0, centered=False)
# torch.optim.Adadelta(lr=1.0, rho=0.9, eps=1e-6, weight_decay=0)
# torch.optim.Adam(lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, amsgrad=False)
# torch.optim.AdamW(lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2, amsgrad=False)
# torch.optim.NAdam(lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, momentum_decay=4e-3,
#                   decoupled_weight_decay=False)
# torch.optim.Adamax(lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0)
# torch.optim.RAdam(lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, decoupled_weight_decay=False)
# torch.optim.Rprop(lr=1e-2, etas=(0.5, 1.2), step_sizes=(1e-6, 50))
# schedulefree 1.4.1: SGDScheduleFree(momentum=0.9, weight_decay=0, warmup_steps=0, r=0, weight_lr_power=2),
#   AdamWScheduleFree(lr=0.0025, betas=(0.9, 0.999), eps=1e-8, the same others); SGD's lr=1.0 is for networks
# SAM (Foret et al. 2021): ρ = 0.05, the paper's value for its CIFAR runs
# Lion (Chen et al. 2023): β1 = 0.9, β2 = 0.99, weight decay 0; lr 3–10× smaller than AdamW's (1e-4)
# L-BFGS: torch.optim.LBFGS(lr=1); Wolfe constants c1 = 1e-4, c2 = 0.9 (N&W for quasi-Newton), c2 = 0.1 for CG
EXPECTED_DEFAULTS = {
    "sgd": dict(lr=1e-3, momentum=0.0, dampening=0.0, nesterov=False, weight_decay=0.0),
    "momentum": dict(lr=1e-3, dampening=0.0, weight_decay=0.0, convention="torch"),
    "nesterov": dict(lr=1e-3, weight_decay=0.0, convention="torch"),
    "adagrad": dict(lr=1e-2, lr_decay=0.0, weight_decay=0.0, initial_accumulator_value=0.0, eps=1e-10),
    "rmsprop": dict(lr=1e-2, rho=0.99, eps=1e-8, weight_decay=0.0, momentum=0.0, centered=False),
    "adadelta": dict(lr=1.0, rho=0.9, eps=1e-6, weight_decay=0.0),
    "adam": dict(lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=0.0, amsgrad=False),
    "adamw": dict(lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=1e-2, amsgrad=False),
    "nadam": dict(lr=2e-3, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=0.0, momentum_decay=4e-3,
                  decoupled_weight_decay=False),  # fmt: skip
    "adamax": dict(lr=2e-3, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=0.0),
    "radam": dict(lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=0.0, decoupled_weight_decay=False),
    "lion": dict(lr=1e-4, beta1=0.9, beta2=0.99, weight_decay=0.0),
    "sam": dict(rho=0.05, base="sgd", weight_decay=0.0),
    "schedulefree_sgd": dict(momentum=0.9, weight_decay=0.0, warmup_steps=0, r=0.0, weight_lr_power=2.0),
    "schedulefree_adamw": dict(lr=0.0025, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=0.0, warmup_steps=0, r=0.0,
                               weight_lr_power=2.0),  # fmt: skip
    "rprop": dict(lr=1e-2, eta_minus=0.5, eta_plus=1.2, step_min=1e-6, step_max=50.0),
    "newton": dict(lr=1.0, damping=0.0),
    "cg": dict(c1=1e-4, c2=0.1, beta_rule="pr+"),
    "lbfgs": dict(lr=1.0, c1=1e-4, c2=0.9),
}


def test_every_optimizer_is_registered():
    assert sorted(optimizer_names()) == sorted(ALL)
    assert len({get_spec(n).oid for n in ALL}) == len(ALL)


@pytest.mark.parametrize("name", list(EXPECTED_DEFAULTS))
def test_defaults_match_published_defaults(name):
    values = make_config(name).values
    for key, expected in EXPECTED_DEFAULTS[name].items():
        got = values[key]
        assert type(got) is type(expected), f"{name}.{key}: {got!r} is not a {type(expected).__name__}"
        assert got == expected, f"{name}.{key} default is {got!r}, published default is {expected!r}"


def test_momentum_methods_default_to_a_real_momentum():
    # torch's SGD default momentum is 0 (plain SGD); the dedicated methods need μ in (0, 1)
    for name in ("momentum", "nesterov"):
        mu = make_config(name).values["momentum"]
        assert 0.0 < mu < 1.0


@pytest.mark.parametrize("name", ALL)
def test_defaults_pack_into_the_vector(name):
    cfg = make_config(name)
    spec = cfg.spec
    assert cfg.vector.shape == (slots.N_HP,)
    assert np.all(np.isfinite(cfg.vector))
    for p in spec.params:
        v = cfg.values[p.key]
        if p.kind == "choice":
            assert cfg.vector[p.slot] == p.choices.index(v)
        else:
            assert cfg.vector[p.slot] == float(v)
    if name == "nesterov":
        assert cfg.vector[slots.HP_NESTEROV] == 1.0


def test_user_values_reach_the_vector():
    cfg = make_config("adam", lr="0.05", beta1=0.8, amsgrad="true")
    assert cfg.vector[slots.HP_LR] == 0.05 and cfg.vector[slots.HP_BETA1] == 0.8 and cfg.vector[slots.HP_AMSGRAD] == 1.0
    assert cfg.values["amsgrad"] is True
    cfg = make_config("lbfgs", history=7.0)
    assert cfg.values["history"] == 7 and isinstance(cfg.values["history"], int)
    cfg = make_config("cg", beta_rule="FR")
    assert cfg.vector[slots.HP_BETA_RULE] == slots.FLETCHER_REEVES


@pytest.mark.parametrize(
    "name, kwargs, key",
    [
        ("sgd", dict(lr=-0.1), "lr"),
        ("sgd", dict(lr=0.0), "lr"),
        ("adam", dict(lr=-1e-3), "lr"),
        ("adam", dict(lr=math.nan), "lr"),
        ("adam", dict(lr=math.inf), "lr"),
        ("adam", dict(lr="fast"), "lr"),
        ("adam", dict(lr=None), "lr"),
        ("adam", dict(lr=True), "lr"),
        ("adam", dict(beta1=1.0), "beta1"),
        ("adam", dict(beta2=1.5), "beta2"),
        ("adam", dict(beta1=-0.1), "beta1"),
        ("adam", dict(eps=math.nan), "eps"),
        ("adam", dict(eps=-1e-8), "eps"),
        ("adam", dict(weight_decay=-0.1), "weight_decay"),
        ("adam", dict(amsgrad="maybe"), "amsgrad"),
        ("adam", dict(momentum=0.9), "momentum"),
        ("adam", dict(betas=(0.9, 0.99)), "betas"),
        ("adamw", dict(beta2=1.0), "beta2"),
        ("nadam", dict(beta1=1.0), "beta1"),
        ("adamax", dict(beta2=1.0), "beta2"),
        ("adamax", dict(eps=-1.0), "eps"),
        ("radam", dict(beta1=1.0), "beta1"),
        ("radam", dict(decoupled_weight_decay="sometimes"), "decoupled_weight_decay"),
        ("radam", dict(amsgrad=True), "amsgrad"),
        ("sam", dict(rho=-0.1), "rho"),
        ("sam", dict(base="lion"), "base"),
        ("sam", dict(momentum=1.0), "momentum"),
        ("schedulefree_sgd", dict(momentum=0.0), "momentum"),
        ("schedulefree_sgd", dict(warmup_steps=2.5), "warmup_steps"),
        ("schedulefree_adamw", dict(beta1=0.0), "beta1"),
        ("schedulefree_adamw", dict(r=-1.0), "r"),
        ("lion", dict(beta1=1.0), "beta1"),
        ("lion", dict(beta2=math.nan), "beta2"),
        ("rmsprop", dict(rho=1.0), "rho"),
        ("rmsprop", dict(momentum=False), "momentum"),
        ("adadelta", dict(rho=1.0), "rho"),
        ("sgd", dict(momentum=1.0), "momentum"),
        ("sgd", dict(nesterov=True), "nesterov"),
        ("sgd", dict(nesterov=True, momentum=0.9, dampening=0.1), "nesterov"),
        ("momentum", dict(convention="textbook", dampening=0.5), "dampening"),
        ("momentum", dict(convention="physics"), "convention"),
        ("nesterov", dict(momentum=0.0), "momentum"),
        ("nesterov", dict(dampening=0.1), "dampening"),
        ("rprop", dict(eta_minus=1.0), "eta_minus"),
        ("rprop", dict(eta_plus=1.0), "eta_plus"),
        ("rprop", dict(step_min=1.0, step_max=0.5), "step_min"),
        ("delta_bar_delta", dict(gain_max=0.5), "gain_max"),
        ("delta_bar_delta", dict(gain_min=0.0), "gain_min"),
        ("newton", dict(damping=-1.0), "damping"),
        ("cg", dict(c1=0.5, c2=0.1), "c1"),
        ("cg", dict(c1=0.1, c2=0.1), "c2"),
        ("cg", dict(beta_rule="hs"), "beta_rule"),
        ("lbfgs", dict(c1=0.95), "c1"),
        ("lbfgs", dict(history=2.5), "history"),
        ("lbfgs", dict(history=0), "history"),
        ("lbfgs", dict(history=True), "history"),
        ("lbfgs", dict(max_evals=0), "max_evals"),
        ("lbfgs", dict(max_evals=10.5), "max_evals"),
        ("lbfgs", dict(unknown=1), "unknown"),
    ],
)
def test_invalid_values_raise_naming_the_key(name, kwargs, key):
    with pytest.raises(ValueError) as err:
        make_config(name, **kwargs)
    assert key in str(err.value), f"message {str(err.value)!r} does not name {key!r}"
    assert "\n" not in str(err.value)


def test_unknown_optimizer_raises():
    with pytest.raises(ValueError, match="unknown optimizer"):
        make_config("adabelief")


def test_edge_values_are_accepted():
    make_config("adam", beta1=0.0, beta2=0.999999, eps=0.0)
    make_config("sgd", momentum=0.9, nesterov=True)
    make_config("momentum", convention="textbook")
    make_config("rprop", step_min=0.5, step_max=0.5)
    make_config("lbfgs", history=1)
    make_config("lbfgs", history=100)
    make_config("sgd", lr=1e6)


@pytest.mark.parametrize("name", ALL)
def test_to_dict_is_json_serialisable(name):
    cfg = make_config(name)
    text = json.dumps(cfg.to_dict(), allow_nan=False)
    back = json.loads(text)
    assert back["name"] == name
    assert back["hyperparameters"] == json.loads(json.dumps(cfg.values))
    spec_text = json.dumps(cfg.spec.to_dict(), allow_nan=False)
    spec = json.loads(spec_text)
    assert [p["key"] for p in spec["hyperparameters"]] == cfg.spec.keys()
    # a config rebuilt from its own dict is the same configuration
    again = make_config(name, **back["hyperparameters"])
    np.testing.assert_array_equal(again.vector, cfg.vector)


def test_label_lists_changed_values():
    assert make_config("adam").label() == "Adam"
    assert "lr=0.01" in make_config("adam", lr=0.01).label()


def test_first_order_flags():
    for name in ALL:
        assert get_spec(name).first_order == (name not in ("newton", "cg", "lbfgs", "hessian_free"))
    assert Modifiers().active is False


@pytest.mark.parametrize("name", ALL)
def test_card_keys_name_real_hyperparameters(name):
    """What a compact card shows besides lr: this optimizer's own hyperparameters, each once."""
    spec = get_spec(name)
    assert spec.card_keys, f"{name} has no card keys"
    assert len(set(spec.card_keys)) == len(spec.card_keys)
    for key in spec.card_keys:
        assert key in spec.keys() and key != "lr"
        assert spec.param(key).key == key


@pytest.mark.parametrize(
    "card_keys, message",
    [(("beta1", "bogus"), "'bogus' is not one of its hyperparameters"), (("lr",), "learning rate already"),
     (("beta1", "beta1"), "twice")],
)  # fmt: skip
def test_a_bad_card_key_fails_when_the_spec_is_built(card_keys, message):
    """The registry refuses a card key that is not a hyperparameter of the optimizer (so a typo fails at import)."""
    with pytest.raises(ValueError, match=message):
        dataclasses.replace(get_spec("adam"), card_keys=card_keys)


def test_only_sam_couples_coordinates():
    """The lock-step sweep steps many runs as one vector: only for rules that act on each coordinate alone."""
    for name in ALL:
        spec = get_spec(name)
        assert spec.coordinatewise == (spec.first_order and name != "sam"), name  # schedule-free's state is common


#: where each rule comes from, written from the project's sources (torch 2.13, lion-pytorch 0.2.5, schedulefree
#: 1.4.1, the papers and Nocedal & Wright), not copied from the registry: the words each source must contain
SOURCES = {
    "sgd": "torch.optim.SGD", "momentum": "torch.optim.SGD", "nesterov": "torch.optim.SGD",
    "adagrad": "torch.optim.Adagrad", "rmsprop": "torch.optim.RMSprop", "adadelta": "torch.optim.Adadelta",
    "adam": "torch.optim.Adam", "adamw": "torch.optim.AdamW", "nadam": "torch.optim.NAdam",
    "adamax": "torch.optim.Adamax", "radam": "torch.optim.RAdam", "rprop": "torch.optim.Rprop",
    "lion": "lion-pytorch", "delta_bar_delta": "Jacobs 1988", "sam": "Foret et al. 2021",
    "schedulefree_sgd": "schedulefree 1.4.1 SGDScheduleFree", "schedulefree_adamw": "schedulefree 1.4.1 AdamWScheduleFree",
    "newton": "Nocedal & Wright", "cg": "Nocedal & Wright", "lbfgs": "Nocedal & Wright",
    "hessian_free": "Martens 2010",
}  # fmt: skip


@pytest.mark.parametrize("name", ALL)
def test_every_rule_names_its_source(name):
    spec = get_spec(name)
    assert SOURCES[name] in spec.source
    assert spec.to_dict()["source"] == spec.source
    if spec.source.startswith("torch.optim"):
        assert "(torch 2.13)" in spec.source  # the version the conformance table runs
    assert spec.to_dict()["averaged_state"] == ("x" if name.startswith("schedulefree") else None)


def test_a_spec_without_a_source_or_with_a_foreign_averaged_row_fails_when_built():
    with pytest.raises(ValueError, match="source must name"):
        dataclasses.replace(get_spec("adam"), source=" ")
    with pytest.raises(ValueError, match="averaged_state 'z2' is not a state row"):
        dataclasses.replace(get_spec("schedulefree_sgd"), averaged_state="z2")


def test_list_optimizers_prints_each_source_and_convention(capsys):
    """``descent-lab list optimizers`` names every rule's source and convention, as text and as JSON."""
    from app.cli import main

    assert main(["list", "optimizers"]) == 0
    text = capsys.readouterr().out
    blocks = {}
    for line in text.splitlines():
        if not line.startswith(" "):
            blocks[line.split()[0]] = []
        else:
            blocks[list(blocks)[-1]].append(line.split(None, 1))
    assert list(blocks) == ALL
    for name, lines in blocks.items():
        fields = dict(lines[:2])
        assert fields["source"] == get_spec(name).source and SOURCES[name] in fields["source"]
        assert fields["convention"] == get_spec(name).convention
    assert main(["list", "optimizers", "--format", "json"]) == 0
    listed = {d["name"]: d for d in json.loads(capsys.readouterr().out)}
    assert {name: d["source"] for name, d in listed.items()} == {name: get_spec(name).source for name in ALL}
    assert all(SOURCES[name] in d["source"] for name, d in listed.items())
