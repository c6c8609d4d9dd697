"""The autoencoder lab: the same optimizer kernels train a real (numpy) autoencoder.

>>> from autoencoder import load_data, ModelSpec, train_race, race_landscape
>>> data = load_data("digits", max_samples=300)
>>> race = train_race(data, ["adam", "sgd"], ModelSpec(hidden=(16,)), epochs=2, psnr_corruptions=None)
>>> [r.status for r in race.runs]
['completed', 'completed']
>>> race_landscape(race, resolution=5, samples=50).z.shape
(5, 5)

Modules: ``data`` (sources, upload checks, split), ``model`` (the network),
``layers`` (its parameter blocks, activations and skip variants), ``backprop``
(its hand-written backward pass), ``hvp`` (exact curvature products),
``corrupt`` (noise for denoising), ``metrics`` (PSNR, principal angles),
``train`` (the optimizer race), ``landscape`` (a 2-D loss slice with projected
paths), ``cli`` (``descent-lab train``).  The
submodules ``corrupt`` and ``landscape`` share their names with no function
exported here, so ``from autoencoder import corrupt`` gives the module.
"""

from autoencoder.corrupt import DEFAULT_TABLE, Corruption, parse_corruption
from autoencoder.data import Dataset, load_data, load_file, read_array
from autoencoder.landscape import Landscape, loss_landscape, race_landscape
from autoencoder.metrics import pca_basis, psnr, subspace_angles
from autoencoder.model import Autoencoder, BatchNormState, ModelSpec, parse_hidden
from autoencoder.train import EpochRecord, PSNRTable, RaceEntry, RaceResult, RunResult, psnr_table, train_race

__all__ = [
    "DEFAULT_TABLE",
    "Autoencoder",
    "BatchNormState",
    "Corruption",
    "Dataset",
    "EpochRecord",
    "Landscape",
    "ModelSpec",
    "PSNRTable",
    "RaceEntry",
    "RaceResult",
    "RunResult",
    "load_data",
    "load_file",
    "loss_landscape",
    "parse_corruption",
    "parse_hidden",
    "pca_basis",
    "psnr",
    "psnr_table",
    "race_landscape",
    "read_array",
    "subspace_angles",
    "train_race",
]
