"""digitrec.data.mnist: the four IDX files, gzip or plain, checked against their MD5s."""

from __future__ import annotations

import gzip
import shutil
from pathlib import Path

import numpy as np
import pytest

from digitrec import DataError, load_mnist
from digitrec.data.mnist import ENV_VAR, MD5, data_md5s, load_idx_dir, parse_idx, resolve_dir


@pytest.fixture(scope="module")
def mnist_dir() -> Path:
    import os

    folder = Path(os.environ[ENV_VAR])
    assert folder.is_dir(), f"{ENV_VAR}={folder} is not a folder"
    return folder


def test_loads_the_four_files(mnist):
    assert mnist.train.images.shape == (60_000, 28, 28) and mnist.train.images.dtype == np.uint8
    assert mnist.test.images.shape == (10_000, 28, 28)
    assert mnist.train.labels.shape == (60_000,) and set(np.unique(mnist.test.labels)) == set(range(10))
    # white ink on black: the background is 0, the brightest ink 255
    assert mnist.train.images[0, 0, 0] == 0 and mnist.train.images.max() == 255


def test_env_var_and_argument(mnist_dir, monkeypatch):
    monkeypatch.setenv(ENV_VAR, str(mnist_dir))
    assert resolve_dir() == mnist_dir
    assert resolve_dir("/elsewhere") == Path("/elsewhere")
    monkeypatch.delenv(ENV_VAR)
    assert resolve_dir() is None  # falls back to the download


def test_plain_uncompressed_files(mnist_dir, tmp_path):
    for stem in MD5:
        with gzip.open(mnist_dir / f"{stem}.gz") as src, open(tmp_path / stem, "wb") as dst:
            shutil.copyfileobj(src, dst)
    data = load_idx_dir(tmp_path)
    assert data.test.labels[:5].tolist() == [7, 2, 1, 0, 4]
    assert data_md5s(tmp_path) == MD5


def copy_dir(src: Path, dst: Path) -> Path:
    for stem in MD5:
        shutil.copy(src / f"{stem}.gz", dst / f"{stem}.gz")
    return dst


def test_corrupt_file_is_named(mnist_dir, tmp_path):
    copy_dir(mnist_dir, tmp_path)
    labels = tmp_path / "t10k-labels-idx1-ubyte.gz"
    raw = bytearray(gzip.decompress(labels.read_bytes()))
    raw[100] = (raw[100] + 1) % 10
    labels.write_bytes(gzip.compress(bytes(raw)))
    with pytest.raises(DataError, match=r"t10k-labels-idx1-ubyte\.gz is corrupt.*MD5"):
        load_mnist(tmp_path)
    assert load_idx_dir(tmp_path, verify=False).test.labels.shape == (10_000,)


def test_missing_file_is_named(mnist_dir, tmp_path):
    copy_dir(mnist_dir, tmp_path)
    (tmp_path / "train-images-idx3-ubyte.gz").unlink()
    with pytest.raises(DataError, match=r"missing MNIST file train-images-idx3-ubyte.*DIGITREC_MNIST_DIR"):
        load_mnist(tmp_path)


def test_missing_folder(tmp_path):
    with pytest.raises(DataError, match="does not exist"):
        load_mnist(tmp_path / "nowhere")


def test_broken_gzip_is_a_clear_error(mnist_dir, tmp_path):
    copy_dir(mnist_dir, tmp_path)
    (tmp_path / "t10k-labels-idx1-ubyte.gz").write_bytes(b"\x1f\x8b garbage")
    with pytest.raises(DataError, match="cannot read"):
        load_mnist(tmp_path)


def test_parse_idx_header():
    raw = bytes([0, 0, 8, 2, 0, 0, 0, 2, 0, 0, 0, 3]) + bytes(range(6))
    assert parse_idx(raw).tolist() == [[0, 1, 2], [3, 4, 5]]
    with pytest.raises(DataError, match="magic"):
        parse_idx(b"\x01\x00\x08\x01" + bytes(8))
    with pytest.raises(DataError, match="not uint8"):
        parse_idx(bytes([0, 0, 0x0D, 1, 0, 0, 0, 1, 0, 0, 0, 0]))
    with pytest.raises(DataError, match="promises"):
        parse_idx(raw[:-1])
