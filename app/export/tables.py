"""Data tables of a run: the rows and columns that the CLI's ``trace`` and the page's CSV/JSON exports write.

These live below both the CLI and the exporters, so neither imports the other.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from app.version import version


#: per-step records of a Hessian-free run, in the order the table writes them
_SOLVER_COLUMNS = ("cg_iterations", "curvature_products", "damping", "rho")


def trajectory_table(traj: Any) -> tuple[list[str], list[list[float]]]:
    """Column names and rows of a trajectory: step, x, y, loss, then the diagnostics and the optimizer's state;
    for schedule-free runs the averaged point ``avg_x, avg_y, avg_loss``; for Hessian-free runs each step's
    ``cg_iterations, curvature_products, damping, rho``; and last the Hessian's eigenvalues
    ``lambda_min, lambda_max`` and unit eigenvectors at each row (when the trajectory has them)."""
    cols = ["step", "x", "y", "loss", "grad_x", "grad_y", "update_x", "update_y", "eff_lr_x", "eff_lr_y"]
    names = list(traj.state)
    for name in names:
        cols += [f"{name}_x", f"{name}_y"]
    averaged = getattr(traj, "averaged", None) is not None and getattr(traj, "averaged_losses", None) is not None
    if averaged:
        cols += ["avg_x", "avg_y", "avg_loss"]
    solver = [name for name in _SOLVER_COLUMNS if getattr(traj, name, None) is not None]
    cols += solver
    curved = getattr(traj, "lambda_min", None) is not None
    if curved:
        cols += ["lambda_min", "lambda_max", "vmin_x", "vmin_y", "vmax_x", "vmax_y"]
    rows = []
    for k in range(traj.positions.shape[0]):
        row = [k, *traj.positions[k], traj.losses[k], *traj.gradients[k], *traj.updates[k], *traj.effective_lr[k]]
        for name in names:
            row += list(traj.state[name][k])
        if averaged:
            row += [*traj.averaged[k], traj.averaged_losses[k]]
        for name in solver:
            v = getattr(traj, name)[k]
            row.append(int(v) if name in ("cg_iterations", "curvature_products") else float(v))
        if curved:
            row += [traj.lambda_min[k], traj.lambda_max[k], *traj.eigvec_min[k], *traj.eigvec_max[k]]
        rows.append(row)
    return cols, rows


def trajectory_json(surface: Any, traj: Any, start: Sequence[float]) -> dict[str, Any]:
    """Reproducible description of a run: inputs, outcome and every recorded step."""
    cols, rows = trajectory_table(traj)
    return {
        "descent_lab_version": version(),
        "surface": surface.to_dict(),
        "optimizer": traj.config.to_dict(),
        "modifiers": traj.modifiers.to_dict(),
        "start": list(start),
        "steps_requested": traj.steps_requested,
        "status": traj.status,
        "stop_step": traj.stop_step,
        "message": traj.message,
        "columns": cols,
        "rows": rows,
    }
