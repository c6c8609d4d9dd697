"""One-click lessons: a configuration that shows one idea, and a sentence saying what to look for.

The hyperparameters were chosen by running the traces (``tests/test_app_presets.py``
checks that each preset still shows its lesson): e.g. on the κ = 100 quadratic,
gradient descent with η = 1 has not reached the minimum after 300 steps while
heavy-ball momentum with the same η is there in under 100.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from app.explorer.config import DEFAULT, ExplorerConfig, OptimizerEntry

E = OptimizerEntry.default


@dataclass(frozen=True)
class Preset:
    name: str  # stable id (used in pattern-matching ids and tests)
    title: str  # button text
    lesson: str  # what to look for, shown when the preset is applied
    config: ExplorerConfig


def _cfg(surface: str, start: tuple[float, float], steps: int, entries: tuple[OptimizerEntry, ...], **kw) -> ExplorerConfig:
    from surfaces.catalog import BY_NAME

    spec = BY_NAME[surface]
    params = dict((p.name, float(p.default)) for p in spec.params)
    params.update(kw.pop("params", {}))
    return ExplorerConfig(
        surface=surface,
        surface_params=tuple((p.name, params[p.name]) for p in spec.params),
        start=start,
        steps=steps,
        optimizers=entries,
        arrows=kw.pop("arrows", entries[0].color),
        **kw,
    )


_CLIFF = (E("sgd", 0, lr=1.0), E("sgd", 4, lr=0.3), E("momentum", 1, lr=0.05, momentum=0.9), E("adam", 5, lr=0.05))
_CLIFF_PARAMS = {"height": 10.0, "steepness": 20.0}
#: SGD takes the highest colour so that its path is drawn over SAM's with ρ = 0, which it equals
_SHARP_WIDE = (
    E("sgd", 2, lr=0.045, momentum=0.9),
    E("sam", 1, lr=0.045, rho=0.25, base="momentum", momentum=0.9),
    E("sam", 0, lr=0.045, rho=0.0, base="momentum", momentum=0.9),
)

PRESETS: tuple[Preset, ...] = (
    Preset(
        "beale",
        "Beale race",
        "Plain SGD crawls along the flat part; AdaGrad and Adam rescale each coordinate and reach the "
        "valley to (3, 0.5) first. Watch the effective-learning-rate panel: AdaGrad's only shrinks.",
        DEFAULT,
    ),
    Preset(
        "long_valley",
        "Long valley",
        "With η near the stability limit across the valley, gradient descent zig-zags between the walls "
        "and creeps along the floor; momentum averages the zig-zag away and accelerates down the valley.",
        _cfg("long_valley", (-9.0, 1.5), 300,
             (E("sgd", 0, lr=0.19), E("momentum", 1, lr=0.05, momentum=0.9),
              E("nesterov", 2, lr=0.05, momentum=0.9), E("adam", 5, lr=0.1)), arrows=1),
    ),  # fmt: skip
    Preset(
        "saddle",
        "Saddle",
        "Starting almost on the ridge of x² − y², gradient descent stalls near the saddle before it "
        "slides off; momentum and adaptive steps escape sooner. Newton's method walks straight to the "
        "saddle: it seeks any stationary point.",
        _cfg("saddle", (-1.8, 0.001), 200,
             (E("sgd", 0, lr=0.05), E("momentum", 1, lr=0.05, momentum=0.9), E("adam", 5, lr=0.05),
              E("rmsprop", 4, lr=0.01), E("newton", 6))),
    ),  # fmt: skip
    Preset(
        "quadratic",
        "Ill-conditioned",
        "κ = 100: η must stay below 2 for the steep direction, so gradient descent crawls along the shallow "
        "one (η = 1.9 also zig-zags). Momentum with the same η reaches the minimum in under 100 steps; "
        "Nesterov sooner still.",
        _cfg("quadratic", (-9.0, 4.0), 300,
             (E("sgd", 0, lr=1.0), E("sgd", 4, lr=1.9), E("momentum", 1, lr=1.0, momentum=0.9),
              E("nesterov", 2, lr=1.0, momentum=0.9)), params={"kappa": 100.0, "angle": 0.0}, arrows=1),
    ),  # fmt: skip
    Preset(
        "himmelblau",
        "Himmelblau",
        "Four equal minima. From the same start near the central maximum, different optimizers fall into "
        "different basins; Newton's method stays on the maximum (the gradient is zero there too).",
        _cfg("himmelblau", (-0.27, -0.92), 300,
             (E("sgd", 0, lr=0.01), E("momentum", 1, lr=0.01, momentum=0.9), E("adam", 5, lr=0.1),
              E("rmsprop", 4, lr=0.05), E("newton", 6))),
    ),  # fmt: skip
    Preset(
        "rastrigin",
        "Rastrigin",
        "A ripple in every cell: small steps stop in the nearest local minimum; large adaptive steps hop "
        "across ripples and settle in a lower, but still local, minimum.",
        _cfg("rastrigin", (3.2, 2.1), 300,
             (E("sgd", 0, lr=0.001), E("adam", 5, lr=0.7), E("rmsprop", 4, lr=0.1))),
    ),  # fmt: skip
    Preset(
        "cliff",
        "Cliff",
        "At the cliff face the gradient is about fifty times larger than anywhere else: SGD with η = 1 is flung "
        "to x ≈ 48, far off the map, and needs dozens of steps to walk back; momentum overshoots too. Adam's "
        "normalised step hardly notices the cliff. Compare with the clipped version.",
        _cfg("cliff", (-2.5, 1.5), 200, _CLIFF, params=_CLIFF_PARAMS),
    ),
    Preset(
        "cliff_clipped",
        "Cliff + clipping",
        "The same cliff with the gradient norm clipped to 1: no step can be longer than η, so SGD with η = 1 "
        "walks down the face and reaches the minimum in about 25 steps, and momentum overshoots far less.",
        _cfg("cliff", (-2.5, 1.5), 200, _CLIFF, params=_CLIFF_PARAMS, clip="norm", clip_value=1.0),
    ),
    Preset(
        "sharp_vs_wide",
        "Sharp vs wide",
        "Two minima of equal depth f = 0: a sharp one (curvature 30) and a wide one (curvature 1). All three "
        "start in the sharp basin with η = 0.045 and momentum 0.9. SGD settles in the sharp minimum: its step is "
        "stable there. SAM takes its gradient ρ = 0.25 uphill, on the sharp basin's steep walls, where it is "
        "about 30·ρ larger than at the bottom: every step overshoots, the bounces grow and throw it out, and in "
        "the wide basin the same ascent adds only about ρ, so SAM settles at (1.5, 0). With ρ = 0 SAM is "
        "plain SGD again and stays in the sharp minimum.",
        _cfg("sharp_wide", (-1.7, 0.35), 400, _SHARP_WIDE),
    ),
)

#: the data-surface lessons (linear regression is centred where the lesson is about the batch, not the bowl)
_CENTRED = {"center": 1.0}
_OFFSET3 = {"offset": 3.0}
_VALLEY_RACE = (E("sgd", 0, lr=0.08), E("momentum", 1, lr=0.04, momentum=0.9), E("adam", 5, lr=0.1))
_SEPARABLE_RACE = (E("sgd", 0, lr=2.0), E("sgd", 4, lr=0.5), E("adam", 5, lr=0.1))

DATA_PRESETS: tuple[Preset, ...] = (
    Preset(
        "minibatch",
        "Full batch vs minibatch",
        "B = 4 of 64 points: every step follows the gradient of 4 points only, so SGD never settles: it jitters "
        "in a noise ball around the minimum, and the ball shrinks with η (0.1, 0.05, 0.02: watch the data panel's "
        "ringed batch change every step). Set B to 16 and the ball shrinks too; set B to 0 (the full batch) and all "
        "three converge onto the minimum.",
        _cfg("linreg", (-1.0, 4.0), 500, (E("sgd", 0, lr=0.1), E("sgd", 4, lr=0.05), E("sgd", 2, lr=0.02)),
             params=_CENTRED, batch_size=4),
    ),  # fmt: skip
    Preset(
        "rprop_minibatch",
        "Rprop needs full batches",
        "Online learning, B = 1: Rprop grows a weight's step by 1.2 while its gradient keeps its sign and halves "
        "it when the sign flips. Single points' gradients flip sign on about 4 steps in 10, and four halvings "
        "outweigh six growths, so Rprop's steps shrink to nothing and it freezes far from the minimum: it uses "
        "signs only, so it cannot average the points' gradients. RMSProp divides by a running mean of squared "
        "gradients instead (the minibatch version of Rprop) and settles close to the minimum. Set B to 0 (the "
        "full batch): Rprop converges exactly.",
        _cfg("linreg", (-1.0, 4.0), 500, (E("rprop", 0), E("rmsprop", 4, lr=0.03), E("sgd", 2, lr=0.02)),
             params=_CENTRED, batch_size=1),
    ),  # fmt: skip
    Preset(
        "uncentred",
        "Uncentred inputs",
        "Inputs with mean 3 couple slope and intercept: the bowl is a narrow valley (κ ≈ 150), η must stay below "
        "2/λ_max ≈ 0.09, and gradient descent with η = 0.08 needs about 600 steps to come within 10⁻⁶ of the least "
        "loss. Compare with the centred inputs.",
        _cfg("linreg", (-1.0, 4.0), 700, _VALLEY_RACE, params=_OFFSET3),
    ),
    Preset(
        "centred",
        "Centred inputs",
        "The same points with their inputs centred (u − ū): slope and intercept decouple, the bowl is nearly round (κ ≈ 1.2) "
        "and gradient descent with the same η = 0.08 comes within 10⁻⁶ of the least loss in about 55 steps, ten "
        "times sooner. The fitted slope is the same; the intercept is now the mean target.",
        _cfg("linreg", (-1.0, 4.0), 700, _VALLEY_RACE, params={**_OFFSET3, **_CENTRED}),
    ),
    Preset(
        "separable",
        "Separable classes",
        "The two classes can be split by a line, so the logistic loss has no minimum: scaling the weights up always "
        "lowers it. Every run's weights keep growing along the separating direction while the loss keeps falling "
        "towards 0. Compare with the L2 penalty.",
        _cfg("logreg", (-3.0, 2.0), 500, _SEPARABLE_RACE),
    ),
    Preset(
        "separable_l2",
        "Separable + L2",
        "The same separable classes with an L2 penalty λ = 0.05: growing weights now cost ½λ‖w‖², the loss has a "
        "minimum, and every run stops there.",
        _cfg("logreg", (-3.0, 2.0), 500, _SEPARABLE_RACE, params={"l2": 0.05}),
    ),
)

PRESETS = PRESETS + DATA_PRESETS

BY_NAME: dict[str, Preset] = {p.name: p for p in PRESETS}


def get_preset(name: str) -> Preset | None:
    return BY_NAME.get(name) if isinstance(name, str) else None


def lesson_for(cfg: ExplorerConfig) -> str:
    """The lesson of the preset ``cfg`` is, or the surface's own lesson."""
    for p in PRESETS:
        if p.config == dataclasses.replace(cfg, basins=p.config.basins):  # nor notes, nor the basins layer
            return p.lesson
    spec = cfg.surface_spec
    return spec.lesson if spec is not None else ""
