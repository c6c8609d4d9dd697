"""Metadata of the built-in surfaces: one record per surface.

The mathematics lives in ``_kernels`` (one jet function per surface); this
module says how to show and start each surface: parameters with ranges,
plotting bounds, known minima with their literature values, default starts,
whether the contour wants a log scale, a description and the LaTeX formula.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

from surfaces import _datakernels as DK
from surfaces import _kernels as K


@dataclass(frozen=True)
class SurfaceParam:
    """A numeric parameter of a surface, with its valid closed range."""

    name: str
    default: float
    low: float
    high: float
    description: str
    log: bool = False
    integer: bool = False


@dataclass(frozen=True)
class Minimum:
    """A known minimum: location and value (global or local)."""

    x: float
    y: float
    value: float
    kind: str = "global"


Bounds = tuple[tuple[float, float], tuple[float, float]]


@dataclass(frozen=True)
class SurfaceSpec:
    """Everything but the mathematics of a built-in surface."""

    name: str
    sid: int
    display_name: str
    description: str
    latex: str
    bounds: Bounds
    starts: tuple[tuple[float, float], ...]
    log_contour: bool
    params: tuple[SurfaceParam, ...] = ()
    minima: Callable[[dict[str, float]], tuple[Minimum, ...]] = field(default=lambda p: ())
    lesson: str = ""


def _cliff_minimum(height: float, steepness: float) -> Minimum:
    """The cliff's minimum: the root of (x−1)/10 = h·k·σ(−kx)(1−σ(−kx)) right of the face, by bisection."""

    def slope(x: float) -> float:
        s = 1.0 / (1.0 + math.exp(min(steepness * x, 700.0)))
        return (x - 1.0) / 10.0 - height * steepness * s * (1.0 - s)

    lo, hi = 0.5, 3.0
    for _ in range(200):
        mid = 0.5 * (lo + hi)
        lo, hi = (mid, hi) if slope(mid) < 0.0 else (lo, mid)
    x = 0.5 * (lo + hi)
    value = (x - 1.0) ** 2 / 20.0 + height / (1.0 + math.exp(min(steepness * x, 700.0)))
    return Minimum(x, 0.0, value)


def _fixed(*mins: Minimum) -> Callable[[dict[str, float]], tuple[Minimum, ...]]:
    return lambda p: mins


#: the parameters every data surface has first: how many points, and the seed they are drawn from
DATA_PARAMS: tuple[SurfaceParam, ...] = (
    SurfaceParam("n", 64, 2, 4096, "number of data points", log=True, integer=True),
    SurfaceParam("data_seed", 0, 0, 999_999, "seed the points are drawn from", integer=True),
)
DATA_SURFACES = ("linreg", "logreg", "tiny_net")


SPECS: tuple[SurfaceSpec, ...] = (
    SurfaceSpec(
        name="beale",
        sid=K.BEALE,
        display_name="Beale",
        description="Three squared residuals; flat plateaus and a sharp curved valley to (3, 0.5).",
        latex=r"(1.5 - x + xy)^2 + (2.25 - x + xy^2)^2 + (2.625 - x + xy^3)^2",
        bounds=((-4.5, 4.5), (-4.5, 4.5)),
        starts=((1.0, 1.5), (-2.0, -2.0)),
        log_contour=True,
        minima=_fixed(Minimum(3.0, 0.5, 0.0)),
        lesson="The CS231n race: adaptive methods find the valley, plain SGD crawls.",
    ),
    SurfaceSpec(
        name="rosenbrock",
        sid=K.ROSENBROCK,
        display_name="Rosenbrock",
        description="A long, curved, flat-bottomed banana valley; the minimum is easy to reach and hard to finish.",
        latex=r"(a - x)^2 + b\,(y - x^2)^2",
        bounds=((-2.0, 2.0), (-1.0, 3.0)),
        starts=((-1.2, 1.0), (-1.5, 2.5)),
        log_contour=True,
        params=(
            SurfaceParam("a", 1.0, -2.0, 2.0, "position of the minimum, (a, a²)"),
            SurfaceParam("b", 100.0, 1.0, 1000.0, "steepness of the valley walls", log=True),
        ),
        minima=lambda p: (Minimum(p["a"], p["a"] ** 2, 0.0),),
        lesson="Curved valley: momentum overshoots the bend, second-order methods follow it.",
    ),
    SurfaceSpec(
        name="long_valley",
        sid=K.LONG_VALLEY,
        display_name="Long valley",
        description="A gently sloping floor between steep walls: gradient descent zig-zags, momentum accelerates.",
        latex=r"s\,\log\cosh x + \tfrac{w}{2}\,y^2",
        bounds=((-10.0, 2.0), (-2.0, 2.0)),
        starts=((-9.0, 1.5),),
        log_contour=False,
        params=(
            SurfaceParam("slope", 0.1, 0.001, 10.0, "slope s of the valley floor", log=True),
            SurfaceParam("wall", 10.0, 0.1, 100.0, "curvature w across the valley", log=True),
        ),
        minima=_fixed(Minimum(0.0, 0.0, 0.0)),
        lesson="Momentum builds speed along a consistent gradient and damps the zig-zag.",
    ),
    SurfaceSpec(
        name="quadratic",
        sid=K.QUADRATIC,
        display_name="Ill-conditioned quadratic",
        description="½(εu² + v²) with ε = 1/κ in coordinates rotated by an angle: the lecture's slow direction.",
        latex=r"\tfrac12\left(\varepsilon u^2 + v^2\right),\ \varepsilon = 1/\kappa,\ "
        r"\begin{pmatrix}u\\v\end{pmatrix} = R_\theta \begin{pmatrix}x\\y\end{pmatrix}",
        bounds=((-10.0, 10.0), (-6.0, 6.0)),
        starts=((-9.0, 4.0),),
        log_contour=False,
        params=(
            SurfaceParam("kappa", 10.0, 1.0, 1e4, "condition number κ of the Hessian", log=True),
            SurfaceParam("angle", 0.0, -90.0, 90.0, "rotation θ of the axes, degrees"),
        ),
        minima=_fixed(Minimum(0.0, 0.0, 0.0)),
        lesson="GD needs η < 2 for the steep direction, then crawls along the shallow one (of order κ steps "
        "per factor e); tuned heavy-ball momentum needs of order √κ.",
    ),
    SurfaceSpec(
        name="saddle",
        sid=K.SADDLE,
        display_name="Saddle",
        description="x² − y²: a minimum along x, a maximum along y, zero gradient at the origin.",
        latex=r"x^2 - y^2",
        bounds=((-2.0, 2.0), (-2.0, 2.0)),
        starts=((-1.8, 0.01),),
        log_contour=False,
        lesson="Starting on the ridge, GD slows to a halt near the saddle; noise and adaptive steps escape.",
    ),
    SurfaceSpec(
        name="monkey_saddle",
        sid=K.MONKEY_SADDLE,
        display_name="Monkey saddle",
        description="x³ − 3xy²: a degenerate saddle where the gradient and the curvature both vanish.",
        latex=r"x^3 - 3xy^2",
        bounds=((-2.0, 2.0), (-2.0, 2.0)),
        starts=((1.5, 0.1),),
        log_contour=False,
        lesson="Second-order information is zero at the origin too: Newton's method has nothing to work with.",
    ),
    SurfaceSpec(
        name="himmelblau",
        sid=K.HIMMELBLAU,
        display_name="Himmelblau",
        description="Four global minima of equal value: the one you reach depends on where you start.",
        latex=r"(x^2 + y - 11)^2 + (x + y^2 - 7)^2",
        bounds=((-5.0, 5.0), (-5.0, 5.0)),
        starts=((-0.27, -0.92), (0.0, 0.0)),
        log_contour=True,
        minima=_fixed(
            Minimum(3.0, 2.0, 0.0),
            Minimum(-2.805118086952745, 3.131312518250573, 0.0),
            Minimum(-3.779310253377747, -3.283185991286170, 0.0),
            Minimum(3.584428340330492, -1.848126526964404, 0.0),
        ),
        lesson="Basins of attraction: nearby starts, different minima.",
    ),
    SurfaceSpec(
        name="rastrigin",
        sid=K.RASTRIGIN,
        display_name="Rastrigin",
        description="A bowl covered in a regular grid of local minima.",
        latex=r"2A + \sum_{z \in \{x, y\}} \left(z^2 - A\cos 2\pi z\right)",
        bounds=((-5.12, 5.12), (-5.12, 5.12)),
        starts=((3.2, 2.1),),
        log_contour=False,
        params=(SurfaceParam("A", 10.0, 0.0, 50.0, "amplitude A of the ripples"),),
        minima=_fixed(Minimum(0.0, 0.0, 0.0)),
        lesson="Local minima everywhere: gradient methods stop in the nearest one.",
    ),
    SurfaceSpec(
        name="ackley",
        sid=K.ACKLEY,
        display_name="Ackley",
        description="A nearly flat, rippled plain around a deep cone-shaped hole at the origin.",
        latex=r"-20 e^{-0.2\sqrt{(x^2+y^2)/2}} - e^{(\cos 2\pi x + \cos 2\pi y)/2} + e + 20",
        bounds=((-5.0, 5.0), (-5.0, 5.0)),
        starts=((3.5, -2.5),),
        log_contour=False,
        minima=_fixed(Minimum(0.0, 0.0, 0.0)),
        lesson="Many shallow traps; the cone at the centre is not smooth (the Hessian is unbounded there).",
    ),
    SurfaceSpec(
        name="goldstein_price",
        sid=K.GOLDSTEIN_PRICE,
        display_name="Goldstein–Price",
        description="A product of two polynomials with values spanning six orders of magnitude; minimum 3 at (0, −1).",
        latex=r"\left[1 + (x+y+1)^2(19 - 14x + 3x^2 - 14y + 6xy + 3y^2)\right]"
        r"\left[30 + (2x-3y)^2(18 - 32x + 12x^2 + 48y - 36xy + 27y^2)\right]",
        bounds=((-2.0, 2.0), (-3.0, 1.0)),
        starts=((-1.5, 0.5), (1.0, 0.5)),
        log_contour=True,
        minima=_fixed(Minimum(0.0, -1.0, 3.0)),
        lesson="Badly scaled: a learning rate that works in one region explodes in another.",
    ),
    SurfaceSpec(
        name="booth",
        sid=K.BOOTH,
        display_name="Booth",
        description="A gentle, well-conditioned quadratic bowl; every method should solve it.",
        latex=r"(x + 2y - 7)^2 + (2x + y - 5)^2",
        bounds=((-10.0, 10.0), (-10.0, 10.0)),
        starts=((-8.0, -8.0),),
        log_contour=True,
        minima=_fixed(Minimum(1.0, 3.0, 0.0)),
        lesson="A sanity check: a convex quadratic with condition number 9.",
    ),
    SurfaceSpec(
        name="cliff",
        sid=K.CLIFF,
        display_name="Cliff",
        description="A high plateau ending in a near-vertical cliff above a bowl: exploding gradients.",
        latex=r"\tfrac{1}{20}(x-1)^2 + \tfrac12 y^2 + h\,\sigma(-k x)",
        bounds=((-3.0, 3.0), (-2.0, 2.0)),
        starts=((-2.5, 1.5),),
        log_contour=False,
        params=(
            SurfaceParam("height", 10.0, 0.0, 100.0, "height h of the cliff"),
            SurfaceParam("steepness", 10.0, 1.0, 1000.0, "steepness k of the cliff face", log=True),
        ),
        minima=lambda p: (_cliff_minimum(p["height"], p["steepness"]),),
        lesson="The cliff face catapults plain GD far away; gradient clipping keeps the step sane.",
    ),
    SurfaceSpec(
        name="plateau",
        sid=K.PLATEAU,
        display_name="Plateau",
        description="A narrow Gaussian well in a flat plain: the gradient almost vanishes away from it.",
        latex=r"1 - \exp\!\left(-\frac{x^2 + y^2}{2w^2}\right)",
        bounds=((-4.0, 4.0), (-4.0, 4.0)),
        starts=((3.0, 2.0),),
        log_contour=False,
        params=(SurfaceParam("width", 1.0, 0.1, 10.0, "width w of the well", log=True),),
        minima=_fixed(Minimum(0.0, 0.0, 0.0)),
        lesson="Vanishing gradients: GD barely moves; methods that normalise the step walk on.",
    ),
    SurfaceSpec(
        name="sharp_wide",
        sid=K.SHARP_WIDE,
        display_name="Sharp and wide minima",
        description="Two minima of exactly equal depth f = 0: a sharp one at (−1.5, 0) and a wide one at (1.5, 0), "
        "with curvatures in the ratio sharp : wide (30 : 1 by default).",
        latex=r"\frac{q_s\,q_w}{q_s + q_w},\quad q_s = \tfrac{a}{2}\left((x + 1.5)^2 + y^2\right),\ "
        r"q_w = \tfrac{b}{2}\left((x - 1.5)^2 + y^2\right)",
        bounds=((-3.0, 3.0), (-2.0, 2.0)),
        starts=((-1.7, 0.35),),
        log_contour=True,
        params=(
            SurfaceParam("sharp", 30.0, 1.0, 1000.0, "curvature a of the sharp minimum (its Hessian is a·I)", log=True),
            SurfaceParam("wide", 1.0, 0.01, 10.0, "curvature b of the wide minimum (its Hessian is b·I)", log=True),
        ),
        minima=_fixed(Minimum(-1.5, 0.0, 0.0), Minimum(1.5, 0.0, 0.0)),
        lesson="Equal depth, different sharpness: SAM's ascent step sees the sharp minimum's steep walls and is "
        "thrown out of it; plain descent settles wherever it starts.",
    ),
    SurfaceSpec(
        name="linreg",
        sid=DK.LINREG,
        display_name="Linear regression (data)",
        description="Mean squared error of the line v ≈ x·u + y over n points (x is the slope, y the intercept). "
        "A convex bowl whose conditioning comes from the inputs: their spread and, above all, their mean.",
        latex=r"\frac{1}{n}\sum_{i=1}^{n} \left(x\,u_i + y - v_i\right)^2",
        bounds=((-1.5, 4.5), (-5.0, 5.0)),
        starts=((-1.0, 4.0),),
        log_contour=True,
        params=DATA_PARAMS
        + (
            SurfaceParam("noise", 0.5, 0.0, 10.0, "standard deviation of the targets around the line v = 1.5u − 1"),
            SurfaceParam("offset", 2.0, -10.0, 10.0, "mean of the inputs u (a mean far from 0 makes the bowl narrow)"),
            SurfaceParam("spread", 1.0, 0.05, 10.0, "standard deviation of the inputs u", log=True),
            SurfaceParam("outliers", 0.0, 0.0, 0.5, "fraction of points whose target is moved by ±8"),
            SurfaceParam("center", 0.0, 0.0, 1.0, "1: subtract the inputs' mean before the fit", integer=True),
        ),
        lesson="The data set the curvature: inputs far from zero couple slope and intercept into a narrow "
        "valley; centring them makes the bowl round and gradient descent fast.",
    ),
    SurfaceSpec(
        name="logreg",
        sid=DK.LOGREG,
        display_name="Logistic regression (data)",
        description="Mean logistic loss of the classifier sign(x·a₁ + y·a₂ + c) over n labelled 2-D points, "
        "plus ½λ(x² + y²). On separable points it has no minimum: the weights grow for ever.",
        latex=r"\frac{1}{n}\sum_{i=1}^{n} \log\!\left(1 + e^{-t_i\,(x\,a_{i1} + y\,a_{i2} + c)}\right)"
        r" + \tfrac{\lambda}{2}\left(x^2 + y^2\right)",
        bounds=((-4.0, 12.0), (-4.0, 12.0)),
        starts=((-3.0, 2.0),),
        log_contour=True,
        params=DATA_PARAMS
        + (
            SurfaceParam("overlap", 0.0, 0.0, 1.0, "how far the classes mix (0: separable with a margin; above 0.5 they overlap)"),
            SurfaceParam("outliers", 0.0, 0.0, 0.5, "fraction of points whose label is flipped"),
            SurfaceParam("bias", 0.0, -5.0, 5.0, "fixed bias c of the classifier"),
            SurfaceParam("l2", 0.0, 0.0, 10.0, "weight λ of the L2 penalty (λ > 0 gives a minimum)"),
        ),
        lesson="Separable points have no critical point: the loss keeps falling as the weights grow along the "
        "separating direction. An L2 penalty restores a minimum.",
    ),
    SurfaceSpec(
        name="tiny_net",
        sid=DK.TINY_NET,
        display_name="Tiny network (data)",
        description="Mean squared error of the two-weight network v ≈ y·tanh(x·u) over n points drawn around "
        "v = 1.5·tanh(u). Two symmetric minima, a saddle at the origin and plateaus where tanh saturates.",
        latex=r"\frac{1}{n}\sum_{i=1}^{n} \left(y\,\tanh(x\,u_i) - v_i\right)^2",
        bounds=((-4.0, 4.0), (-4.0, 4.0)),
        starts=((3.5, -0.4),),
        log_contour=True,
        params=DATA_PARAMS
        + (
            SurfaceParam("noise", 0.1, 0.0, 10.0, "standard deviation of the targets around 1.5·tanh(u)"),
            SurfaceParam("offset", 0.0, -10.0, 10.0, "mean of the inputs u"),
            SurfaceParam("spread", 1.0, 0.05, 10.0, "standard deviation of the inputs u", log=True),
            SurfaceParam("outliers", 0.0, 0.0, 0.5, "fraction of points whose target is moved by ±8"),
        ),
        lesson="Non-convexity from data: flipping both weights' signs gives the same network, so the minima "
        "come in pairs with a saddle between them; large inner weights saturate tanh into plateaus.",
    ),
)

BY_NAME: dict[str, SurfaceSpec] = {s.name: s for s in SPECS}
