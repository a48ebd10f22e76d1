"""Binary image data for Boltzmann machines: the .amat reader, binarisation and the ``--data`` resolver."""

from __future__ import annotations

import gzip
import hashlib
from pathlib import Path

import numpy as np
import pytest

from tests.shared_data import SHARED_DATA
from thermolearn.datasets.binarized_mnist import binarize, load_binarized_mnist
from thermolearn.datasets.binary_images import load_binary_images

BINARIZED = SHARED_DATA / "binarized_mnist"
needs_binarized = pytest.mark.skipif(
    not (BINARIZED / "binarized_mnist_test.amat.gz").is_file(),
    reason="binarised MNIST (.amat) not found under ../shared/data/binarized_mnist",
)


def _write_amat(path: Path, images: np.ndarray, compress: bool = False) -> Path:
    text = "".join(" ".join(str(int(v)) for v in row) + "\n" for row in images).encode()
    path.write_bytes(gzip.compress(text) if compress else text)
    return path


@pytest.mark.parametrize("compress", [False, True])
def test_amat_round_trip_plain_and_gzipped(tmp_path, compress):
    images = np.random.default_rng(0).integers(0, 2, size=(5, 784), dtype=np.uint8)
    name = "binarized_mnist_valid.amat" + (".gz" if compress else "")
    _write_amat(tmp_path / name, images, compress)
    got = load_binarized_mnist(tmp_path, split="valid")
    assert got.dtype == np.uint8 and np.array_equal(got, images)
    assert np.array_equal(load_binarized_mnist(tmp_path / name, split="valid", limit=2), images[:2])


def test_amat_rejects_malformed_files(tmp_path):
    bad = tmp_path / "x.amat"
    bad.write_bytes(b"0 1 0\n")
    with pytest.raises(ValueError, match="whole number"):
        load_binarized_mnist(bad)
    images = np.zeros((2, 784), dtype=np.uint8)
    images[0, 3] = 2
    with pytest.raises(ValueError, match="other than 0 and 1"):
        load_binarized_mnist(_write_amat(tmp_path / "y.amat", images))
    text = bytearray(_write_amat(tmp_path / "z.amat", np.zeros((1, 784), dtype=np.uint8)).read_bytes())
    text[5] = ord(",")
    (tmp_path / "z.amat").write_bytes(bytes(text))
    with pytest.raises(ValueError, match="single"):
        load_binarized_mnist(tmp_path / "z.amat")
    with pytest.raises(ValueError, match="split must be"):
        load_binarized_mnist(tmp_path, split="dev")
    with pytest.raises(ValueError, match="has no binarized_mnist_test"):
        load_binarized_mnist(tmp_path, split="test")


def test_threshold_binarisation_is_at_half_range():
    grey = np.array([[0, 127, 128, 255]])
    assert binarize(grey).tolist() == [[0, 0, 1, 1]]
    assert binarize(np.array([[7, 8, 16]]), levels=17).tolist() == [[0, 1, 1]]
    with pytest.raises(ValueError, match="grey levels"):
        binarize(np.array([[300]]))
    with pytest.raises(ValueError, match="binarisation must be"):
        binarize(grey, method="otsu")
    # whole-number floats (scikit-learn's digits) are grey levels; rescaled images are refused
    assert binarize(np.array([[7.0, 8.0]]), levels=17).tolist() == [[0, 1]]
    with pytest.raises(ValueError, match="integer grey levels 0..16; got fractional values"):
        binarize(np.array([[7.9, 8.0]]), levels=17)


def test_bernoulli_binarisation_is_seeded_and_unbiased():
    grey = np.full((200, 500), 51)  # p = 51/255 = 0.2
    a = binarize(grey, method="bernoulli", seed=3)
    assert np.array_equal(a, binarize(grey, method="bernoulli", seed=3))
    p = 51 / 255
    assert abs(a.mean() - p) < 5 * np.sqrt(p * (1 - p) / a.size)


def test_bernoulli_binarised_digits_draw_each_pixel_with_its_grey_level_as_probability():
    # up to 0.6.13 the resolver passed a list seed, which the seed check refuses: every
    # load_binary_images(..., binarization="bernoulli") (and rbm train --binarization bernoulli) raised
    from thermolearn.datasets.digits import DIGITS_LEVELS, load_digits

    a = load_binary_images("digits", binarization="bernoulli", seed=3)
    assert np.array_equal(a.data, load_binary_images("digits", binarization="bernoulli", seed=3).data)
    assert not np.array_equal(a.data, load_binary_images("digits", binarization="bernoulli", seed=4).data)
    order = np.random.default_rng(20150000).permutation(len(load_digits()))
    p = load_digits()[order[300:]] / (DIGITS_LEVELS - 1)  # the train split's grey levels
    assert a.data.shape == p.shape and set(np.unique(a.data)) == {0, 1}
    # each pixel is an independent Bernoulli(p): the total count has variance sum p (1 - p)
    assert abs(a.data.sum() - p.sum()) < 5 * np.sqrt(np.sum(p * (1 - p)))
    with pytest.raises(TypeError, match="seed must be a non-negative int"):
        load_binary_images("digits", binarization="bernoulli", seed=np.random.default_rng(0))


def test_digits_resolver_gives_the_fixed_split_in_zero_one():
    train = load_binary_images("digits", split="train")
    test = load_binary_images("digits", split="test")
    assert train.data.shape == (1497, 64) and test.data.shape == (300, 64)
    assert set(np.unique(train.data)) == {0, 1} and train.image_shape == (8, 8) and train.binary
    with pytest.raises(ValueError, match="train and a test split"):
        load_binary_images("digits", split="valid")
    with pytest.raises(ValueError, match="unknown data"):
        load_binary_images("no-such-data")


@needs_binarized
def test_real_binarized_mnist_matches_its_published_checksums():
    for split, md5, n, mean in (
        ("train", "0922fefc9a9d097e3b086b89107fafce", 50_000, 0.13056),
        ("test", "0fa539ed8cb008880a61be77f744f06a", 10_000, 0.13251),
    ):
        data = load_binarized_mnist(BINARIZED, split=split)
        assert data.shape == (n, 784)
        assert hashlib.md5(data[:10].reshape(10, 1, 28, 28).tobytes()).hexdigest() == md5
        assert abs(data.mean() - mean) < 5e-6
    resolved = load_binary_images(BINARIZED / "binarized_mnist_valid.amat.gz", split="valid", limit=10)
    assert resolved.name == "binarized-mnist" and resolved.data.shape == (10, 784)


def test_a_damaged_deflate_stream_in_an_amat_file_is_a_one_line_error(tmp_path):
    path = tmp_path / "binarized_mnist_train.amat.gz"
    path.write_bytes(b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03" + b"\x07" + b"\x00" * 20)
    with pytest.raises(ValueError, match=r"binarized_mnist_train\.amat\.gz is not a readable gzip file"):
        load_binarized_mnist(path)


def test_an_amat_file_beyond_the_size_bound_is_refused_as_it_is_read(tmp_path, monkeypatch):
    import tracemalloc

    import thermolearn.datasets.binarized_mnist as binarized_mnist

    assert binarized_mnist.AMAT_MAX_IMAGES >= 2 * max(binarized_mnist.BINARIZED_MNIST_SIZES.values())
    line = (" ".join(["0"] * 784) + "\n").encode()
    (tmp_path / "small.amat").write_bytes(line * 4)
    (tmp_path / "bomb.amat.gz").write_bytes(gzip.compress(line * 20_000, compresslevel=1))  # 31 MB of text
    monkeypatch.setattr(binarized_mnist, "AMAT_MAX_IMAGES", 3)
    with pytest.raises(ValueError, match=r"small\.amat holds more than 3 lines of 784 pixels"):
        load_binarized_mnist(tmp_path / "small.amat")
    tracemalloc.start()
    try:
        with pytest.raises(ValueError, match=r"bomb\.amat\.gz holds more than 3 lines"):
            load_binarized_mnist(tmp_path / "bomb.amat.gz")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 8 << 20  # a block of lines, never the 31 MB


def test_one_amat_file_is_the_split_its_name_says(tmp_path):
    images = np.zeros((2, 784), dtype=np.uint8)
    named = _write_amat(tmp_path / "binarized_mnist_valid.amat", images)
    other = _write_amat(tmp_path / "mine.amat", images)
    assert load_binary_images(named, split="valid").info["split"] == "valid"
    assert load_binarized_mnist(other).shape == (2, 784)
    with pytest.raises(ValueError, match=r"binarized_mnist_valid\.amat is one \.amat file, the 'valid' split"):
        load_binary_images(named, split="test")
    with pytest.raises(ValueError, match=r"mine\.amat is one \.amat file, the 'train' split .* no 'test' split"):
        load_binary_images(other, split="test")
