"""The lab's data: uploaded files (checked, kept in the job store by content hash) and the dataset a race loads.

A page's upload becomes a small reference (key, name, features, image shape) that travels with
the form; the job reloads the bytes from the store and checks them against their hash.  A new
built-in data source is a row of :data:`app.lab.state.SOURCES` and a branch of :func:`load_dataset`.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from collections.abc import Mapping
from typing import Any

from app.lab.ids import KEY_PREFIX
from app.lab.limits import MAX_UPLOAD_BYTES, UPLOAD_TTL
from app.lab.state import LabSettings


def upload_key(digest: str) -> str:
    return f"{KEY_PREFIX}upload:{digest}"


def read_upload(contents: Any, filename: Any, max_bytes: int = MAX_UPLOAD_BYTES) -> tuple[bytes, str]:
    """dcc.Upload's data URL → (bytes, safe file name); ValueError with a one-line reason."""
    name = filename if isinstance(filename, str) else "upload"
    name = re.sub(r"[^\w.\- ]", "_", name.replace("\\", "/").rsplit("/", 1)[-1])[:80] or "upload"
    if not isinstance(contents, str) or "," not in contents:
        raise ValueError("the upload is empty or unreadable")
    b64 = contents.split(",", 1)[1]
    if len(b64) > (max_bytes + 2) // 3 * 4 + 4:
        raise ValueError(f"{name} is larger than {max_bytes // 2**20} MB, the upload limit")
    try:
        data = base64.b64decode(b64, validate=True)
    except (binascii.Error, ValueError):
        raise ValueError(f"{name}: the upload is not valid base64") from None
    if len(data) > max_bytes:
        raise ValueError(f"{name} is {len(data) / 2**20:.1f} MB; the upload limit is {max_bytes // 2**20} MB")
    if not data:
        raise ValueError(f"{name} is empty")
    return data, name


def accept_upload(kv: Any, contents: Any, filename: Any) -> dict[str, Any]:
    """Validate an uploaded file (the data module's checks: no pickle, numeric, finite, sizes) and keep it.

    Returns the reference the form stores: key, name, features, image shape, samples, description.
    """
    from autoencoder.data import load_file

    data, name = read_upload(contents, filename)
    ds = load_file(data, filename=name)
    digest = hashlib.sha256(data).hexdigest()
    kv.set(upload_key(digest), data, UPLOAD_TTL)
    return {"key": digest, "name": name, "n_features": ds.n_features, "n_samples": ds.n_samples,
            "image_shape": list(ds.image_shape) if ds.image_shape else None, "description": ds.description}  # fmt: skip


def upload_outputs(kv: Any, contents: Any, filename: Any) -> dict[str, Any]:
    """What the page shows for a dropped file: its reference (None if refused) and a message; the
    upload's own contents are cleared, so the file's bytes do not travel with every later request."""
    try:
        ref = accept_upload(kv, contents, filename)
    except ValueError as exc:
        return {"ref": None, "message": f"Refused: {exc}.", "contents": None}
    return {"ref": ref, "message": f"Loaded {ref['description']}.", "contents": None}


def _upload_bytes(kv: Any, upload: Any) -> tuple[bytes, str]:
    if not isinstance(upload, Mapping) or not re.fullmatch(r"[0-9a-f]{64}", str(upload.get("key", ""))):
        raise ValueError("no uploaded file: upload a .npy, .npz or .csv file first")
    data = kv.get(upload_key(str(upload["key"])))
    if data is None:
        raise ValueError("the uploaded file has expired from the server; upload it again")
    if hashlib.sha256(data).hexdigest() != upload["key"]:
        raise ValueError("the uploaded file does not match its reference; upload it again")
    name = upload.get("name") if isinstance(upload.get("name"), str) else "upload"
    return data, name[:80]


def load_dataset(s: LabSettings, kv: Any, upload: Any) -> Any:
    from autoencoder.data import load_data, load_file

    if s.data == "file":
        data, name = _upload_bytes(kv, upload)
        return load_file(data, filename=name, seed=s.seed, max_samples=s.samples)
    if s.data == "sample_images":
        return load_data("sample_images", seed=s.seed, n_patches=s.samples)
    if s.data == "synthetic":
        return load_data("synthetic", seed=s.seed, n_synthetic=s.samples)
    return load_data("digits", seed=s.seed, max_samples=s.samples)
