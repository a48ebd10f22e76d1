"""Data sets: the 2D toys and their exact densities, digits, and MNIST from IDX files."""

from __future__ import annotations

import gzip
import hashlib
import math

import numpy as np
import pytest

from tests.shared_data import SHARED_DATA
from thermolearn.datasets import (
    DATASET_NAMES,
    gaussian_mixture,
    gaussian_mixture_log_density,
    load_dataset,
    load_digits,
    load_mnist,
    read_idx,
    standardize,
    swiss_roll,
    swiss_roll_log_density,
    two_moons,
)
from thermolearn.datasets.registry import model_to_levels

MNIST_DIR = SHARED_DATA / "mnist"


@pytest.mark.parametrize("gen", [swiss_roll, two_moons, gaussian_mixture])
def test_toys_are_standardised_by_constants_of_the_distribution(gen):
    x = gen(100_000, seed=1)
    assert x.shape == (100_000, 2) and x.dtype == np.float64
    # population mean 0 and average variance 1 per coordinate, within sampling error
    assert np.all(np.abs(x.mean(0)) < 5 * x.std(0) / math.sqrt(len(x)))
    v = x.var(0).mean()
    assert abs(v - 1.0) < 5 * np.sqrt(np.mean(((x - x.mean(0)) ** 2).mean(1).var() / len(x))) + 1e-3


@pytest.mark.parametrize("gen", [swiss_roll, two_moons, gaussian_mixture])
def test_toys_are_reproducible_from_the_seed(gen):
    np.testing.assert_array_equal(gen(50, seed=3), gen(50, seed=3))
    assert not np.array_equal(gen(50, seed=3), gen(50, seed=4))
    np.testing.assert_array_equal(gen(5, seed=np.random.default_rng(7)), gen(5, seed=np.random.default_rng(7)))


def test_toys_reject_bad_input():
    with pytest.raises(ValueError):
        swiss_roll(0)
    with pytest.raises(TypeError):
        swiss_roll(10, seed="x")
    with pytest.raises(ValueError, match="noise"):
        two_moons(10, noise=-1)
    with pytest.raises(ValueError, match="noise-free"):
        swiss_roll_log_density(np.zeros((2, 2)), noise=0.0)
    with pytest.raises(ValueError, match="shape"):
        gaussian_mixture_log_density(np.zeros((2, 3)))


def _grid_integral(logp, lim=3.2, n=200):
    g = np.linspace(-lim, lim, n)
    gx, gy = np.meshgrid(g, g)
    pts = np.stack([gx.ravel(), gy.ravel()], 1)
    return np.exp(logp(pts)).sum() * (g[1] - g[0]) ** 2


def test_exact_densities_integrate_to_one():
    assert _grid_integral(gaussian_mixture_log_density) == pytest.approx(1.0, abs=2e-3)
    noise = 0.5  # wide enough for a 200 x 200 grid
    assert _grid_integral(lambda p: swiss_roll_log_density(p, noise=noise, quadrature_points=2001)) == pytest.approx(
        1.0, abs=5e-3
    )


def test_swiss_roll_density_agrees_with_a_histogram():
    # fraction of samples in a box against the integrated density
    noise = 0.5
    x = swiss_roll(100_000, noise=noise, seed=2)
    box = (x[:, 0] > 0) & (x[:, 0] < 0.5) & (x[:, 1] > 0) & (x[:, 1] < 0.5)
    g = np.linspace(0, 0.5, 40, endpoint=False) + 0.5 / 80
    gx, gy = np.meshgrid(g, g)
    pts = np.stack([gx.ravel(), gy.ravel()], 1)
    mass = np.exp(swiss_roll_log_density(pts, noise=noise, quadrature_points=4001)).sum() * (0.5 / 40) ** 2
    p = box.mean()
    assert abs(p - mass) < 5 * math.sqrt(p * (1 - p) / len(x)) + 1e-3


def test_standardize():
    y, mean, scale = standardize(np.array([[1.0, 2.0], [3.0, 6.0], [5.0, 10.0]]))
    np.testing.assert_allclose(y.mean(0), 0, atol=1e-12)
    assert y.var(0).mean() == pytest.approx(1.0)
    with pytest.raises(ValueError):
        standardize(np.ones((3, 2)))


def test_load_dataset_toys_give_fresh_held_out_data():
    tr = load_dataset("moons", n=100, seed=0)
    te = load_dataset("moons", n=100, seed=0, split="test")
    assert tr.data.shape == (100, 2) and not tr.is_image
    assert not np.array_equal(tr.data, te.data)
    np.testing.assert_array_equal(te.data, load_dataset("moons", n=100, seed=0, split="test").data)
    assert set(DATASET_NAMES) == {"swiss-roll", "moons", "gaussians", "digits"}


def test_load_dataset_noise_sets_the_thickness_of_the_curve():
    from thermolearn.datasets import swiss_roll_log_density

    default = load_dataset("swiss-roll", n=2000, split="test")
    thin = load_dataset("swiss-roll", n=2000, split="test", noise=0.0125)
    assert default.info["noise"] == 0.05 and thin.info["noise"] == 0.0125
    # a 4x thinner roll: the exact density is higher by about log2(4) = 2 bits per point
    gain = (
        swiss_roll_log_density(thin.data, noise=0.0125).mean() - swiss_roll_log_density(default.data).mean()
    ) / math.log(2)
    assert 1.9 < gain < 2.1
    assert load_dataset("moons", n=10, noise=0.1).info["noise"] == 0.1
    with pytest.raises(ValueError, match="gaussians has no noise"):
        load_dataset("gaussians", noise=0.1)
    with pytest.raises(ValueError, match="noise must be"):
        load_dataset("swiss-roll", noise=-1.0)


def test_load_dataset_errors(tmp_path):
    with pytest.raises(ValueError, match="unknown dataset"):
        load_dataset("cifar")
    for pattern in ("**", "a[", "x?*"):  # names that are glob patterns: still "unknown", not pathlib's error
        with pytest.raises(ValueError, match="unknown dataset"):
            load_dataset(pattern)
    with pytest.raises(ValueError, match="split"):
        load_dataset("moons", split="valid")
    with pytest.raises(ValueError, match="binary"):
        load_dataset("moons", binary=True)
    with pytest.raises(ValueError, match="n must"):
        load_dataset("moons", n=0)
    with pytest.raises(ValueError, match="no t10k|no train"):
        load_dataset(str(tmp_path))


def test_digits():
    images, labels = load_digits(return_labels=True)
    assert images.shape == (1797, 64) and set(np.unique(images)) <= set(range(17))
    tr, te = load_dataset("digits"), load_dataset("digits", split="test")
    assert tr.n == 1497 and te.n == 300 and tr.image_shape == (8, 8) and tr.levels == 17
    assert tr.data.min() > -1 and tr.data.max() < 1
    # bin centres map back to the grey levels
    np.testing.assert_array_equal(model_to_levels(np.concatenate([tr.data, te.data]), 17).sum(), images.sum())
    b = load_dataset("digits", binary=True, n=10)
    assert b.binary and b.levels is None and set(np.unique(b.data)) <= {0.0, 1.0}


def test_digits_read_from_scikit_learns_file_are_scikit_learns_digits(monkeypatch):
    from sklearn.datasets import load_digits as sklearn_digits

    import thermolearn.datasets.digits as digits

    bunch = sklearn_digits()
    images, labels = load_digits(return_labels=True)
    np.testing.assert_array_equal(images, bunch.data)
    np.testing.assert_array_equal(labels, bunch.target)
    assert digits._read_shipped_table() is not None  # the fast path is the one taken here
    monkeypatch.setattr(digits, "_read_shipped_table", lambda: None)  # a scikit-learn that keeps it elsewhere
    np.testing.assert_array_equal(load_digits(), bunch.data)


def _idx_bytes(arr: np.ndarray) -> bytes:
    code = {np.uint8: 0x08, np.int32: 0x0C}[arr.dtype.type]
    header = bytes([0, 0, code, arr.ndim]) + b"".join(int(s).to_bytes(4, "big") for s in arr.shape)
    return header + arr.astype(arr.dtype.newbyteorder(">")).tobytes()


def test_read_idx_plain_gzipped_and_split(tmp_path):
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, size=(7, 28, 28), dtype=np.uint8)
    labels = rng.integers(0, 10, size=7).astype(np.uint8)
    raw = _idx_bytes(images)
    (tmp_path / "t10k-images-idx3-ubyte").write_bytes(raw)
    np.testing.assert_array_equal(read_idx(tmp_path / "t10k-images-idx3-ubyte"), images)
    gz = gzip.compress(raw)
    (tmp_path / "x.gz").write_bytes(gz)
    np.testing.assert_array_equal(read_idx(tmp_path / "x.gz"), images)
    cut = len(gz) // 3
    for k, part in enumerate((gz[:cut], gz[cut : 2 * cut], gz[2 * cut :])):
        (tmp_path / f"train-images-idx3-ubyte.gz.part-0{k}").write_bytes(part)
    (tmp_path / "train-labels-idx1-ubyte.gz").write_bytes(gzip.compress(_idx_bytes(labels)))
    got, lab = load_mnist(tmp_path, split="train", return_labels=True)
    np.testing.assert_array_equal(got, images.reshape(7, -1))
    np.testing.assert_array_equal(lab, labels)
    assert load_mnist(tmp_path, split="test", limit=3).shape == (3, 784)
    i32 = np.arange(6, dtype=np.int32).reshape(2, 3) - 3
    (tmp_path / "ints").write_bytes(_idx_bytes(i32))
    np.testing.assert_array_equal(read_idx(tmp_path / "ints"), i32)


def test_read_idx_rejects_bad_files(tmp_path):
    (tmp_path / "bad").write_bytes(b"\x12\x34\x56\x78rest")
    with pytest.raises(ValueError, match="magic"):
        read_idx(tmp_path / "bad")
    (tmp_path / "short").write_bytes(_idx_bytes(np.zeros((2, 2), np.uint8))[:-1])
    with pytest.raises(ValueError, match="bytes"):
        read_idx(tmp_path / "short")
    with pytest.raises(ValueError, match="no such"):
        read_idx(tmp_path / "missing")
    with pytest.raises(ValueError, match="split"):
        load_mnist(tmp_path, split="dev")


needs_mnist = pytest.mark.skipif(
    not (MNIST_DIR / "t10k-images-idx3-ubyte.gz").is_file(), reason=f"MNIST IDX files not found at {MNIST_DIR}"
)


@needs_mnist
def test_real_mnist_test_split():
    images, labels = load_mnist(MNIST_DIR, split="test", return_labels=True)
    assert images.shape == (10_000, 784) and images.dtype == np.uint8
    np.testing.assert_array_equal(np.bincount(labels), [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009])
    assert images.mean() == pytest.approx(33.791, abs=1e-3)


@needs_mnist
def test_real_mnist_train_split_joined_from_parts():
    parts = sorted(MNIST_DIR.glob("train-images-idx3-ubyte.gz.part-*"))
    joined = b"".join(p.read_bytes() for p in parts)
    assert hashlib.md5(joined).hexdigest() == "f68b3c2dcbeaaa9fbdd348bbdeb94873"
    data = load_dataset(str(MNIST_DIR), n=500)
    assert data.name == "mnist" and data.data.shape == (500, 784) and data.levels == 256
    np.testing.assert_array_equal(data.labels[:5], [5, 0, 4, 1, 9])


# ---------------------------------------------------------------------------------- damaged and crafted IDX files
def _idx_header(code: int, shape: tuple[int, ...]) -> bytes:
    return bytes([0, 0, code, len(shape)]) + b"".join(int(s).to_bytes(4, "big") for s in shape)


def test_a_damaged_deflate_stream_is_a_one_line_error_naming_the_file(tmp_path):
    path = tmp_path / "damaged.gz"
    path.write_bytes(b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03" + b"\x07" + b"\x00" * 20)  # block type 3: invalid
    with pytest.raises(ValueError, match=r"damaged\.gz is not a readable gzip file"):
        read_idx(path)


def test_a_gzip_whose_header_declares_more_than_memory_is_refused_before_inflating(tmp_path, monkeypatch):
    import thermolearn.resources as resources

    path = tmp_path / "big.gz"
    path.write_bytes(gzip.compress(_idx_header(0x08, (2000, 28, 28)) + bytes(2000 * 784)))
    monkeypatch.setattr(resources, "available_memory_bytes", lambda: 1_000_000)  # 1.5 MB declared: too much
    with pytest.raises(ValueError, match=r"big\.gz \(IDX data of shape \(2000, 28, 28\)\) needs about"):
        read_idx(path)


def test_a_gzip_bomb_is_read_no_further_than_its_header_declares(tmp_path):
    import tracemalloc

    # 10 images declared, 32 MiB inflated: the reader must stop one byte past the declared end
    path = tmp_path / "bomb.gz"
    path.write_bytes(gzip.compress(_idx_header(0x08, (10, 28, 28)) + bytes(32 << 20), compresslevel=1))
    assert path.stat().st_size < 1 << 20
    tracemalloc.start()
    try:
        with pytest.raises(ValueError, match=r"bomb\.gz: IDX header says shape \(10, 28, 28\).*inflates to more than"):
            read_idx(path)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 4 << 20


def test_slices_are_joined_in_the_order_of_their_numbers(tmp_path):
    images = np.random.default_rng(1).integers(0, 256, size=(50, 28, 28), dtype=np.uint8)
    raw = _idx_bytes(images)
    size = -(-len(raw) // 11)
    for k in range(11):  # part-0 ... part-10: sorted as text, part-10 would come before part-2
        (tmp_path / f"t10k-images-idx3-ubyte.part-{k}").write_bytes(raw[k * size : (k + 1) * size])
    np.testing.assert_array_equal(read_idx(tmp_path / "t10k-images-idx3-ubyte"), images)
    np.testing.assert_array_equal(load_mnist(tmp_path, split="test"), images.reshape(50, -1))


@pytest.mark.parametrize(
    ("numbers", "message"),
    [
        (["00", "01", "03"], r"missing number\(s\) 2"),
        (["0", "1", "01"], r"repeat a number \(x\.part-01, x\.part-1\)"),
        (["00", "01", "2"], r"mix zero-padded and other numbers \(x\.part-00, x\.part-01, x\.part-2\)"),
        (["2", "3"], r"first is 2"),
    ],
)
def test_slices_with_gaps_repeats_or_mixed_widths_are_refused_naming_them(tmp_path, numbers, message):
    raw = _idx_bytes(np.zeros((3, 2), np.uint8))
    for k, number in enumerate(numbers):
        (tmp_path / f"x.part-{number}").write_bytes(raw[k * 4 : (k + 1) * 4] if k < len(numbers) - 1 else raw[k * 4 :])
    with pytest.raises(ValueError, match=message):
        read_idx(tmp_path / "x")


def test_images_that_are_not_28_by_28_are_refused_as_mnist(tmp_path):
    from thermolearn.datasets.binary_images import load_binary_images

    path = tmp_path / "small.idx"
    path.write_bytes(_idx_bytes(np.zeros((100, 10, 10), np.uint8)))
    for load in (load_mnist, load_dataset, load_binary_images):
        with pytest.raises(ValueError, match=r"small\.idx holds images of 10 x 10 pixels; MNIST images are 28 x 28"):
            load(str(path))


def _mnist_folder(folder, images: np.ndarray, labels: bytes) -> None:
    folder.mkdir()
    (folder / "t10k-images-idx3-ubyte").write_bytes(_idx_bytes(images))
    (folder / "t10k-labels-idx1-ubyte").write_bytes(labels)


def test_labels_must_be_one_digit_per_image(tmp_path):
    images = np.zeros((4, 28, 28), np.uint8)
    good = np.array([0, 9, 3, 3], np.uint8)
    _mnist_folder(tmp_path / "good", images, _idx_bytes(good))
    x, y = load_mnist(tmp_path / "good", split="test", return_labels=True, limit=2)
    assert x.shape == (2, 784) and y.dtype == np.int64 and y.tolist() == [0, 9]
    floats = np.array([1.7, np.nan, 2.0, 3.0], ">f4")
    cases = {
        "float": (_idx_header(0x0D, (4,)) + floats.tobytes(), r"must hold one integer per image"),
        "high": (_idx_bytes(np.array([0, 200, 1, 2], np.uint8)), r"labels from 0 to 200; MNIST labels are the digits"),
        "negative": (_idx_header(0x09, (4,)) + bytes([0, 253, 1, 2]), r"labels from -3 to 2"),
        "many": (_idx_bytes(np.zeros(10, np.uint8)), r"holds 10 labels for the 4 images of .*t10k-images"),
        "few": (_idx_bytes(np.zeros(3, np.uint8)), r"holds 3 labels for the 4 images of .*t10k-images"),
    }
    for name, (labels, message) in cases.items():
        _mnist_folder(tmp_path / name, images, labels)
        with pytest.raises(ValueError, match=rf"{name}/t10k-labels-idx1-ubyte.* {message}"):
            load_mnist(tmp_path / name, split="test", return_labels=True, limit=2)  # checked before the limit


def test_an_idx_file_of_no_images_or_of_overflowing_dimensions_is_refused_naming_it(tmp_path):
    (tmp_path / "zero.idx").write_bytes(_idx_header(0x08, (0, 28, 28)))
    with pytest.raises(ValueError, match=r"zero\.idx: IDX header declares shape \(0, 28, 28\), which holds no data"):
        load_mnist(tmp_path / "zero.idx")
    # 2^31 * 2^31 * 4 = 2^64 bytes: an int64 product wraps to 0, which the 16-byte file would match
    huge = _idx_header(0x08, (2**31, 2**31, 4))
    (tmp_path / "huge.idx").write_bytes(huge)
    with pytest.raises(ValueError, match=r"huge\.idx: IDX header says shape .*18446744073709551632 bytes"):
        load_mnist(tmp_path / "huge.idx")
    (tmp_path / "huge.gz").write_bytes(gzip.compress(huge))
    with pytest.raises(ValueError, match=r"huge\.gz \(IDX data of shape .*\) needs about"):
        load_mnist(tmp_path / "huge.gz")


def test_one_images_file_is_one_split_and_never_answers_another(tmp_path):
    from thermolearn.datasets.binary_images import load_binary_images

    raw = _idx_bytes(np.full((3, 28, 28), 200, np.uint8))
    named = tmp_path / "t10k-images-idx3-ubyte.gz"  # LeCun's name: the test split
    named.write_bytes(gzip.compress(raw))
    other = tmp_path / "my-images.idx"
    other.write_bytes(raw)
    assert load_mnist(named, split="test").shape == (3, 784) and load_mnist(other).shape == (3, 784)
    assert load_dataset(str(named), split="test").info["split"] == "test"
    assert load_binary_images(other, split="train").info["split"] == "train"
    for path, split, holds in ((named, "train", "test"), (other, "test", "train")):
        message = rf"{path.name} is one images file, .*; it has no '{split}' split: ask for split '{holds}'"
        for load in (load_mnist, load_dataset, load_binary_images):
            with pytest.raises(ValueError, match=message):
                load(str(path), split=split)


def test_digits_are_binarised_at_one_threshold_for_diffusion_and_for_boltzmann_machines():
    from thermolearn.datasets.binary_images import load_binary_images

    for split in ("train", "test"):
        diffusion = load_dataset("digits", binary=True, split=split).data
        rbm = load_binary_images("digits", split=split).data
        np.testing.assert_array_equal(diffusion, rbm)
    # half of the full range 0..16 is 8: a pixel of 8 is on, as binarize documents
    grey = load_dataset("digits", split="train")
    on = load_dataset("digits", binary=True, split="train").data
    levels = model_to_levels(grey.data, 17)
    assert np.all(on[levels == 8] == 1) and np.all(on[levels == 7] == 0) and np.any(levels == 8)


def test_damage_mask_refuses_a_side_that_is_not_an_integer():
    from thermolearn.datasets.damage import damage_mask

    rng = np.random.default_rng(0)
    assert damage_mask(2, (np.int64(4), 3), "top", 0.5, rng).shape == (2, 12)
    with pytest.raises(TypeError, match="image_shape must be an integer >= 1, got 28.7"):
        damage_mask(2, (28.7, 28), "top", 0.5, rng)
    with pytest.raises(TypeError, match=r"image_shape must be \(height, width\), got 28"):
        damage_mask(2, 28, "top", 0.5, rng)  # type: ignore[arg-type]
