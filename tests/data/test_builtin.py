"""The demo's images live under the data folder, which `graftlab cache clear` never touches."""

import numpy as np

from graftlab._paths import CACHE_KINDS, cache_dir, clear_cache, data_dir
from graftlab.data import builtin, load_dataset


def test_demo_images_are_written_outside_the_cache_and_survive_cache_clear(monkeypatch):
    # The demo once wrote its PNG folders under <cache>/datasets; cache clear deleted them
    # and its run could no longer be evaluated.
    rng = np.random.default_rng(0)
    images = rng.integers(0, 255, (20, 28, 28), dtype=np.uint8)
    labels = np.arange(20) % 10
    monkeypatch.setattr(builtin, "mnist_5k_arrays", lambda: (images, labels))
    root = builtin.mnist_demo_folders()
    assert root.is_relative_to(data_dir()) and not root.is_relative_to(cache_dir())
    (cache_dir() / "features").mkdir(parents=True, exist_ok=True)
    clear_cache()
    assert not (cache_dir() / "features").exists()
    assert len(load_dataset(root, test_fraction=0, val_fraction=0, progress=False)) == 20


def test_cache_clear_keeps_legacy_demo_images_unless_asked_by_name(tmp_path):
    for kind in CACHE_KINDS:
        (tmp_path / kind / "entry").mkdir(parents=True)
        (tmp_path / kind / "entry" / "f").write_bytes(b"x" * 10)
    freed = clear_cache(tmp_path)
    assert set(freed) == set(CACHE_KINDS) - {"datasets"} and (tmp_path / "datasets").exists()
    assert clear_cache(tmp_path, ["datasets"]) == {"datasets": 10}
    assert not (tmp_path / "datasets").exists()


def test_graftlab_demo_trains_on_folders_under_the_data_dir_not_the_cache(
    monkeypatch, tmp_path, cli
):
    import graftlab.train

    rng = np.random.default_rng(0)
    images = rng.integers(0, 255, (20, 28, 28), dtype=np.uint8)
    monkeypatch.setattr(builtin, "mnist_5k_arrays", lambda: (images, np.arange(20) % 10))
    trained = []
    monkeypatch.setattr(graftlab.train, "run_training", lambda data, *a, **k: trained.append(data))
    code, _, err = cli("demo", "--cache-dir", str(tmp_path / "cache"), "--project", str(tmp_path))
    assert code == 0, err
    (folder,) = trained
    assert folder.is_relative_to(data_dir()) and not folder.is_relative_to(tmp_path / "cache")
