"""Data sources, the checks on a user's file, MNIST from local IDX files, and the corruptions."""

from __future__ import annotations

import gzip
import io
import pickle
import zipfile
from pathlib import Path

import numpy as np
import pytest

from autoencoder import corrupt as C
from autoencoder import data as D
from autoencoder.metrics import mean_std, pca_basis, psnr, subspace_angles


@pytest.fixture(scope="module")
def digits() -> D.Dataset:
    return D.load_data("digits")


def test_digits_scaled_and_split_with_a_seed(digits: D.Dataset) -> None:
    assert digits.train.shape == (1438, 64) and digits.val.shape == (359, 64)
    assert digits.image_shape == (8, 8)
    both = np.vstack([digits.train, digits.val])
    assert both.min() == 0.0 and both.max() == 1.0
    again = D.load_data("digits")
    np.testing.assert_array_equal(again.val, digits.val)
    other = D.load_data("digits", seed=1)
    assert not np.array_equal(other.val, digits.val)
    small = D.load_data("digits", max_samples=100, val_fraction=0.25)
    assert small.train.shape == (75, 64) and small.val.shape == (25, 64)


def test_sample_image_patches() -> None:
    d = D.load_data("sample_images", n_patches=200, patch_size=10)
    assert d.n_features == 100 and d.n_samples == 200 and d.image_shape == (10, 10)
    assert 0.0 <= d.train.min() and d.train.max() <= 1.0 and d.train.std() > 0.05


def test_synthetic_images() -> None:
    d = D.load_data("synthetic", n_synthetic=50, side=16)
    assert d.n_features == 256 and d.image_shape == (16, 16)
    assert 0.0 <= d.train.min() and d.train.max() <= 1.0 and d.train.mean() > 0.02


# ----------------------------------------------------------------------------- user files
def _npy_bytes(a: np.ndarray, allow_pickle: bool = False) -> bytes:
    buf = io.BytesIO()
    np.save(buf, a, allow_pickle=allow_pickle)
    return buf.getvalue()


def test_good_files_load(tmp_path: Path) -> None:
    imgs = np.random.default_rng(0).integers(0, 256, size=(40, 6, 5), dtype=np.uint8)
    p = tmp_path / "imgs.npy"
    np.save(p, imgs)
    d = D.load_file(p)
    assert d.image_shape == (6, 5) and d.n_features == 30 and d.n_samples == 40
    np.testing.assert_allclose(np.sort(np.vstack([d.train, d.val]).ravel()), np.sort(imgs.ravel() / 255.0))
    z = tmp_path / "many.npz"
    np.savez_compressed(z, labels=np.arange(40), x=imgs.reshape(40, 30).astype(np.float32) * 3.0 - 7.0)
    dz = D.load_file(z)
    assert dz.n_features == 30 and dz.image_shape is None
    assert np.vstack([dz.train, dz.val]).min() == 0.0 and np.vstack([dz.train, dz.val]).max() == 1.0
    csv = tmp_path / "rows.csv"
    csv.write_text("\n".join(",".join(str(v) for v in row) for row in imgs.reshape(40, 30)[:, :16]) + "\n")
    dc = D.load_file(csv)
    assert dc.n_features == 16 and dc.image_shape == (4, 4)
    upload = D.load_file(_npy_bytes(imgs), "from-browser.npy")  # the app passes an upload's bytes
    assert upload.n_samples == 40


def _refused(content: bytes, name: str, match: str) -> None:
    with pytest.raises(ValueError, match=match) as info:
        D.load_file(content, name)
    assert "\n" not in str(info.value)


def test_pickle_is_never_loaded(tmp_path: Path) -> None:
    class Boom:
        def __reduce__(self):  # would run code if it were ever unpickled
            return (Path("/nonexistent-descent-lab-marker").touch, ())

    payload = pickle.dumps(Boom())
    _refused(payload, "weights.npy", "pickle")
    _refused(payload, "weights.npz", "pickle")
    _refused(payload, "weights.pkl", "unsupported file type")
    assert not Path("/nonexistent-descent-lab-marker").exists()
    obj = np.array([{"a": 1}, None, 3], dtype=object)
    _refused(_npy_bytes(obj, allow_pickle=True), "objects.npy", "object dtype")
    buf = io.BytesIO()
    np.savez(buf, x=obj)
    _refused(buf.getvalue(), "objects.npz", "object dtype")


def test_non_numeric_and_non_finite_are_refused() -> None:
    _refused(_npy_bytes(np.array([["a", "b"]] * 5)), "text.npy", "text")
    _refused(_npy_bytes(np.ones((5, 4), dtype=complex)), "complex.npy", "complex")
    with_nan = np.random.default_rng(0).random((10, 4))
    with_nan[3, 1] = np.nan
    _refused(_npy_bytes(with_nan), "nan.npy", r"1 NaN values \(first in sample 3\)")
    with_inf = np.ones((10, 4))
    with_inf[7, 0] = np.inf
    _refused(_npy_bytes(with_inf), "inf.npy", "infinite")
    _refused(_npy_bytes(np.full((10, 4), 3.0)), "flat.npy", "nothing to learn")


def test_bad_shapes_are_refused() -> None:
    _refused(_npy_bytes(np.ones(50)), "flat.npy", r"2-D .* or 3-D .*got shape \(50,\)")
    _refused(_npy_bytes(np.ones((5, 4, 4, 3))), "rgb.npy", "colour images")
    _refused(_npy_bytes(np.ones((2, 4))), "few.npy", "at least 4")
    _refused(_npy_bytes(np.ones((10, 1))), "thin.npy", "features")
    _refused(_npy_bytes(np.zeros((D.MAX_SAMPLES + 1, 2), dtype=np.uint8)), "huge.npy", "70,000")


def test_too_large_files_are_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _refused(b"\x93NUMPY" + b"\0" * D.MAX_FILE_BYTES, "big.npy", "the limit is 50 MB")
    p = tmp_path / "big.csv"
    with open(p, "wb") as fh:  # a sparse file: refused by its size before it is read
        fh.truncate(D.MAX_FILE_BYTES + 1)
    with pytest.raises(ValueError, match="50 MB"):
        D.load_file(p)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf, zf.open("x.npy", "w") as fh:
        fh.write(_npy_bytes(np.zeros((2000, 512))))  # 8 MB that compress to almost nothing
    monkeypatch.setattr(D, "MAX_EXPANDED_BYTES", 1024 * 1024)
    _refused(buf.getvalue(), "bomb.npz", "expands to")


def test_csv_with_text_is_refused() -> None:
    _refused(b"a,b,c\n1,2,3\n4,5,6\n7,8,9\n1,1,1\n", "header.csv", r"line 1, column 1 .*'a'.*header")
    _refused(b"1,2,3\n4,five,6\n7,8,9\n1,1,1\n", "typo.csv", r"line 2, column 2 .*'five'")
    _refused(b"1,2,3\n4,5\n7,8,9\n1,1,1\n", "ragged.csv", "line 2 has 2 values")
    _refused(b"\x00\x01\x02binary", "blob.csv", "not a text CSV")
    _refused(b"1,2\nnan,3\n1,1\n2,2\n", "nan.csv", "NaN")


# ----------------------------------------------------------------------------- MNIST (local IDX)
def _idx(a: np.ndarray) -> bytes:
    header = bytes([0, 0, 0x08, a.ndim]) + b"".join(int(s).to_bytes(4, "big") for s in a.shape)
    return header + a.astype(np.uint8).tobytes()


def test_mnist_from_local_idx_files(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    train = rng.integers(0, 256, size=(30, 28, 28), dtype=np.uint8)
    test = rng.integers(0, 256, size=(10, 28, 28), dtype=np.uint8)
    (tmp_path / "train-images-idx3-ubyte.gz").write_bytes(gzip.compress(_idx(train)))
    (tmp_path / "t10k-images-idx3-ubyte").write_bytes(_idx(test))
    (tmp_path / "train-labels-idx1-ubyte").write_bytes(_idx(np.arange(30)))
    d = D.load_data("mnist", tmp_path, val_fraction=0.25)
    assert d.n_samples == 40 and d.image_shape == (28, 28)
    np.testing.assert_allclose(np.sort(np.vstack([d.train, d.val]).ravel()),
                               np.sort(np.concatenate([train.ravel(), test.ravel()]) / 255.0))  # fmt: skip
    one = D.load_mnist_array(tmp_path / "train-images-idx3-ubyte.gz")
    np.testing.assert_array_equal(one, train)
    npz = tmp_path / "mnist.npz"
    np.savez(npz, x_train=train, y_train=np.zeros(30), x_test=test)
    assert D.load_mnist_array(npz).shape == (40, 28, 28)
    with pytest.raises(ValueError, match="labels file"):
        D.load_mnist_array(tmp_path / "train-labels-idx1-ubyte")
    bad = tmp_path / "bad"
    bad.write_bytes(b"\x01\x02\x03\x04" + b"\0" * 100)
    with pytest.raises(ValueError, match="magic"):
        D.load_mnist_array(bad)
    short = tmp_path / "short"
    short.write_bytes(_idx(train)[:-5])
    with pytest.raises(ValueError, match="data bytes"):
        D.load_mnist_array(short)
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(ValueError, match="no MNIST image files"):
        D.load_mnist_array(empty)
    with pytest.raises(ValueError, match="no such file"):
        D.load_mnist_array(tmp_path / "missing")


def test_unknown_source() -> None:
    with pytest.raises(ValueError, match="known: digits"):
        D.load_data("cifar")
    with pytest.raises(ValueError, match="needs a path"):
        D.load_data("mnist")


# ----------------------------------------------------------------------------- corruptions
@pytest.mark.parametrize("spec", ["clean", "gaussian:0.3", "salt_pepper:0.2", "blur:1.5", "knockout:0.4"])
def test_corruptions_stay_in_range_and_are_seeded(spec: str) -> None:
    x = np.random.default_rng(0).random((20, 36))
    c = C.parse_corruption(spec)
    a = C.corrupt(x, c, (6, 6), np.random.default_rng(1))
    b = C.corrupt(x, c, (6, 6), np.random.default_rng(1))
    assert a.shape == x.shape and 0.0 <= a.min() and a.max() <= 1.0
    np.testing.assert_array_equal(a, b)
    assert np.array_equal(a, x) == (c.kind == "clean")
    assert x is not a


def test_corruption_strengths() -> None:
    rng = np.random.default_rng(0)
    grey = np.full((200, 100), 0.5)
    g = C.corrupt(grey, C.Corruption("gaussian", 0.1), None, rng)
    assert (g - grey).std() == pytest.approx(0.1, rel=0.03)
    sp = C.corrupt(grey, C.Corruption("salt_pepper", 0.2), None, rng)
    assert np.mean(sp != 0.5) == pytest.approx(0.2, abs=0.01)
    assert np.mean(sp == 0.0) == pytest.approx(0.1, abs=0.01)
    ko = C.corrupt(np.ones((50, 100)), C.Corruption("knockout", 0.3), (10, 10), rng)
    assert np.all((ko == 0).sum(axis=1) == 9)  # a 3×3 square per image
    rows = (ko.reshape(50, 10, 10) == 0).any(axis=2).sum(axis=1)
    assert np.all(rows == 3)
    flat = C.corrupt(np.full((3, 64), 0.7), C.Corruption("blur", 2.0), (8, 8), rng)
    np.testing.assert_allclose(flat, 0.7)  # blur keeps a constant image
    dot = np.zeros((1, 81))
    dot[0, 40] = 1.0
    b = C.corrupt(dot, C.Corruption("blur", 1.0), (9, 9), rng).reshape(9, 9)
    assert b.sum() == pytest.approx(1.0) and b[4, 4] < 0.2 and b[4, 5] == pytest.approx(b[5, 4])
    with pytest.raises(ValueError, match="image data"):
        C.corrupt(dot, C.Corruption("knockout", 0.3), None, rng)


def test_parse_corruption_errors() -> None:
    assert C.parse_corruption("salt-and-pepper").kind == "salt_pepper"
    assert C.parse_corruption("blur").level == 1.0
    with pytest.raises(ValueError, match="unknown noise type"):
        C.parse_corruption("speckle:0.1")
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        C.parse_corruption("gaussian:2")
    with pytest.raises(ValueError, match="number"):
        C.parse_corruption("gaussian:lots")


# ----------------------------------------------------------------------------- metrics
def test_psnr_and_subspace_angles() -> None:
    a = np.zeros((2, 10))
    b = np.full((2, 10), 0.1)
    np.testing.assert_allclose(psnr(a, b), [20.0, 20.0])
    assert mean_std(psnr(a, a)) is None
    assert mean_std(np.array([np.inf, 20.0])) == (40.0, 20.0)  # capped at 60 dB, not dropped
    rng = np.random.default_rng(0)
    u = rng.standard_normal((30, 3))
    assert np.max(subspace_angles(u, u @ rng.standard_normal((3, 3)))) < 1e-7
    e = np.eye(4)
    rot = np.array([[1, 0], [0, np.cos(0.3)], [0, np.sin(0.3)], [0, 0]])
    np.testing.assert_allclose(np.sort(subspace_angles(e[:, :2], rot)), [0.0, 0.3], atol=1e-12)
    import scipy.linalg as scipy_linalg  # installed with scikit-learn
    v = rng.standard_normal((30, 2))
    np.testing.assert_allclose(np.sort(subspace_angles(u, v)), np.sort(scipy_linalg.subspace_angles(u, v)), atol=1e-10)
    x = rng.standard_normal((200, 5)) * [5, 3, 1, 0.5, 0.1] + 7
    np.testing.assert_allclose(np.abs(pca_basis(x, 2)[:2]), np.eye(2), atol=0.1)


def test_header_that_lies_about_its_size_is_refused() -> None:
    """A few bytes claiming a 10¹²-element array are refused before numpy allocates anything."""
    head = io.BytesIO()
    np.lib.format.write_array_header_1_0(head, {"descr": "<f8", "fortran_order": False, "shape": (10**6, 10**6)})
    fake = head.getvalue() + b"\0" * 128
    _refused(fake, "liar.npy", "declares")
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("x.npy", fake)
    _refused(buf.getvalue(), "liar.npz", "declares")
