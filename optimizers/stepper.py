"""Step an optimizer kernel from Python: the one driver of the kernels' begin/resume protocol.

The update rules in ``optimizers._kernels`` work by reverse communication, so
one rule serves a 2-D point on a surface and the flat weight vector of a
network.  :class:`Stepper` holds one optimizer's kernel state and drives one
iteration at a time; the network trainer and the tests use it.  The compiled
surface runner (``optimizers._runkernels.run``) inlines the same loop, because
compiled code cannot call a Python object; a test checks that the two agree
step for step.

The contract of one iteration, ``stepper.step(theta, f, g, evaluate, lr)``:

* The caller passes the iterate θ (updated in place), f(θ) and ∇f(θ), and the
  learning rate (``stepper.lr(t)`` is the scheduled one at iteration t).  Newton
  also reads ∇²f(θ) from ``stepper.h``, which the caller fills first
  (``stepper.needs_hessian``).  Gradient noise and clipping, which apply to
  first-order rules only, are applied to ``g`` in place.  A rule that looks ahead
  (textbook Nesterov, ``stepper.lookahead``) ignores f and g: the caller may pass
  anything and skip that evaluation.
* Whenever the kernel asks, the stepper calls ``evaluate(q, gq)``, which must
  return f(q) and write ∇f(q) into ``gq``.  ``q`` is the kernel's query point:
  read it, do not keep or change it.  Textbook Nesterov asks once, for its
  look-ahead point, and that gradient gets the noise and clipping; SAM asks
  once, for its ascent point θ + ρg/‖g‖, and both its gradients (at θ and
  there) get them (``stepper.sampled``); CG and L-BFGS ask once per
  line-search trial.
* ``step`` returns one code of ``optimizers._slots``:

  - ``DONE``: θ holds the new iterate; f and ∇f there are not known yet;
  - ``DONE_AT_QUERY``: θ moved to the last query point; its f is
    ``stepper.fq`` and its ∇f is in ``stepper.gq``;
  - ``STALLED``: no step was possible (singular Hessian, a line search that gave
    up, or more than ``MAX_EVALS_PER_STEP`` evaluations); θ is back where the
    iteration began;
  - ``NEED_EVAL``: only for textbook Nesterov or SAM, whose loss or gradient at
    the query point was not finite (a gradient whose squared norm overflows
    counts as not finite); θ is back where the iteration began.

  ``stepper.evals`` is the number of evaluations the iteration made and
  ``stepper.eff`` the per-coordinate effective learning rate of its step.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from optimizers._kernels import begin, init_state, looks_ahead, resume, samples_at_query, scalar_slots, state_rows
from optimizers._modkernels import apply_noise_and_clip, scheduled_lr
from optimizers._slots import (
    CLIP_MODE,
    DONE,
    DONE_AT_QUERY,
    HP_LR,
    MAX_EVALS_PER_STEP,
    NEED_EVAL,
    NOISE_SIGMA,
    SCHED_KIND,
    SEED,
    STALLED,
)
from optimizers.modifiers import NO_MODIFIERS, Modifiers
from optimizers.registry import OptimizerConfig

__all__ = [
    "DONE",
    "DONE_AT_QUERY",
    "MAX_EVALS_PER_STEP",
    "NEED_EVAL",
    "STALLED",
    "Evaluate",
    "Stepper",
]

#: ``evaluate(q, gq) -> f(q)``, writing ∇f(q) into ``gq``
Evaluate = Callable[[np.ndarray, np.ndarray], float]


def _finite(f: float, g: np.ndarray) -> bool:
    return math.isfinite(f) and math.isfinite(float(np.dot(g, g)))


class Stepper:
    """One optimizer's kernel state on an n-vector, stepped through begin/resume (see the module docstring).

    ``modifiers`` (noise, clipping, schedule) apply only if the registry calls the
    optimizer first-order.  ``S`` (per-coordinate state rows) and ``sc`` (scalar
    state) are the kernels' state, under the kernels' names.
    """

    def __init__(self, config: OptimizerConfig, n: int, modifiers: Modifiers = NO_MODIFIERS) -> None:
        spec = config.spec
        self.config = config
        self.oid = spec.oid
        self.hp = config.vector
        self.mods = modifiers.vector() if spec.first_order else NO_MODIFIERS.vector()
        self.scheduled = self.mods[SCHED_KIND] != 0.0
        self.perturbed = self.mods[NOISE_SIGMA] > 0.0 or self.mods[CLIP_MODE] != 0.0
        self.lookahead = bool(looks_ahead(self.oid, self.hp))
        self.sampled = bool(samples_at_query(self.oid, self.hp))
        self.needs_hessian = spec.family == "second-order"
        self.S = np.zeros((max(state_rows(self.oid, self.hp), 1), n))
        self.sc = np.zeros(scalar_slots(self.oid, self.hp))
        self.q = np.zeros(n)
        self.gq = np.zeros(n)
        self.eff = np.zeros(n)
        self.h = np.zeros((n, n)) if self.needs_hessian else np.zeros((0, 0))
        self.fq = math.nan
        self.evals = 0
        self._start = np.zeros(n)
        self.reset()

    def reset(self) -> None:
        """Start afresh: the kernel's initial state and the noise generator's seed."""
        init_state(self.oid, self.hp, self.S, self.sc)
        self.rng = np.uint64(int(self.mods[SEED]))

    def lr(self, t: int) -> float:
        """The learning rate of iteration ``t`` (0 for the first): the schedule's, or the configured one."""
        return float(scheduled_lr(self.hp[HP_LR], self.mods, t)) if self.scheduled else float(self.hp[HP_LR])

    def step(self, theta: np.ndarray, f: float, g: np.ndarray, evaluate: Evaluate, lr: float) -> int:
        """One iteration from ``theta`` (updated in place); returns DONE, DONE_AT_QUERY, STALLED or NEED_EVAL."""
        if self.perturbed and not self.lookahead:
            self._perturb(g)
        self._start[:] = theta
        res = begin(self.oid, self.hp, lr, self.S, self.sc, theta, f, g, self.h, self.q, self.eff)
        self.evals = 0
        while res == NEED_EVAL:
            if self.evals == MAX_EVALS_PER_STEP:
                res = STALLED
                break
            self.evals += 1
            fq = float(evaluate(self.q, self.gq))
            self.fq = fq
            if self.sampled:
                if not _finite(fq, self.gq):
                    theta[:] = self._start
                    return NEED_EVAL
                if self.perturbed:
                    self._perturb(self.gq)
            res = resume(self.oid, self.hp, lr, self.S, self.sc, theta, self.q, fq, self.gq, self.eff)
        if res == STALLED:
            theta[:] = self._start
        return res

    def _perturb(self, g: np.ndarray) -> None:
        # the state stays np.uint64: the compiled call returns it as a Python int, and passing that back
        # would run an int64 specialisation of the generator, which draws another stream
        self.rng = np.uint64(apply_noise_and_clip(self.mods, g, self.rng))

    def state(self) -> dict[str, np.ndarray]:
        """The state rows the registry shows, by name (copies)."""
        return {name: self.S[row].copy() for name, row in self.config.state_rows()}
