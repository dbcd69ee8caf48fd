"""graftlab.doctor.preflight: leakage, tiny classes, imbalance and a validation split too small."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from graftlab.doctor.preflight import PreflightConfig, near_duplicates, run_preflight
from graftlab.errors import ConfigError

try:
    from graftlab.data.dataset import Dataset, Record
except ImportError:  # the doctor's checks need only these fields
    from dataclasses import dataclass

    @dataclass(frozen=True)
    class Record:  # type: ignore[no-redef]
        path: str
        label: int | tuple[int, ...]
        split: str
        sha256: str

    @dataclass
    class Dataset:  # type: ignore[no-redef]
        records: list
        classes: list
        task: str


def make_dataset(per_split, classes=("cat", "dog"), dupes=()):
    """``per_split = {"train": [n_class0, n_class1], ...}``; ``dupes``: (split, i, train_i)."""
    records = []
    for split, counts in per_split.items():
        for label, n in enumerate(counts):
            for i in range(n):
                path = f"/data/{split}/{classes[label]}/{i}.jpg"
                records.append(Record(path, label, split, f"{split}-{label}-{i}"))
    for split, i, train_i in dupes:
        train = [r for r in records if r.split == "train"]
        target = [j for j, r in enumerate(records) if r.split == split][i]
        r = records[target]
        records[target] = Record(r.path, r.label, r.split, train[train_i].sha256)
    kind = "binary" if len(classes) == 2 else "multiclass"
    return Dataset(records=records, classes=list(classes), task=kind)


def codes(findings):
    return [f.code for f in findings]


def test_a_healthy_dataset_passes():
    ds = make_dataset({"train": [40, 35], "val": [10, 9], "test": [10, 10]})
    assert run_preflight(ds) == []


def test_many_test_images_identical_to_training_images_is_an_error_with_examples():
    dupes = [("test", i, i) for i in range(3)]
    ds = make_dataset({"train": [40, 40], "val": [10, 10], "test": [10, 10]}, dupes=dupes)
    [f] = run_preflight(ds)
    assert (f.code, f.category, f.severity) == ("GL601", "data-leakage", "error")
    assert "3 of 20 test images (15.0%)" in f.evidence
    assert "/data/train/cat/0.jpg\n    == /data/test/cat/0.jpg" in f.evidence


def test_a_single_duplicate_in_a_large_split_is_a_warning_and_relabelled_pairs_are_named():
    ds = make_dataset({"train": [300, 300], "val": [150, 150]}, dupes=[("val", 200, 0)])
    [f] = run_preflight(ds)
    assert (f.code, f.severity) == ("GL601", "warning")
    assert "1 of 300 val images" in f.evidence and "different labels" in f.evidence


def test_classes_with_few_training_images_and_extreme_imbalance():
    ds = make_dataset({"train": [200, 4, 30], "val": [20, 5, 6]}, classes=("a", "b", "c"))
    found = {f.code: f for f in run_preflight(ds)}
    assert set(found) == {"GL603", "GL604"}
    assert "'b': 4" in found["GL603"].evidence
    assert "50:1" in found["GL604"].title and "'a': 200 images (85.5%)" in found["GL604"].evidence


def test_validation_split_too_small_or_missing_a_class():
    ds = make_dataset({"train": [50, 50, 50], "val": [8, 2, 0]}, classes=("a", "b", "c"))
    [f] = run_preflight(ds)
    assert (f.code, f.category, f.severity) == ("GL605", "other", "warning")
    assert "1 absent" in f.title and "'b': 2" in f.evidence and "'c': 0" in f.evidence


def test_multilabel_records_count_each_label():
    records = [Record(f"/x/{i}.jpg", (0, 1), "train", f"h{i}") for i in range(20)]
    records += [Record(f"/v/{i}.jpg", (0,), "val", f"v{i}") for i in range(6)]
    ds = Dataset(records=records, classes=["a", "b"], task="multilabel")
    [f] = run_preflight(ds)
    assert f.code == "GL605" and "'b': 0" in f.evidence


def test_thresholds_come_from_the_config():
    ds = make_dataset({"train": [40, 35], "val": [10, 9]})
    assert codes(run_preflight(ds, {"min_val_per_class": 20})) == ["GL605"]
    assert codes(run_preflight(ds, PreflightConfig(min_train_per_class=38))) == ["GL603"]

    class TrainConfig:  # any config object: only the known names are read
        max_imbalance = 1.1
        lr = 1e-3

    assert codes(run_preflight(ds, TrainConfig())) == ["GL604"]
    with pytest.raises(ConfigError, match="Unknown preflight setting"):
        run_preflight(ds, {"min_val": 3})


def test_empty_dataset_is_refused():
    with pytest.raises(ConfigError, match="empty"):
        run_preflight(Dataset(records=[], classes=["a"], task="multiclass"))


def test_near_duplicates_in_feature_space_chunked():
    g = torch.Generator().manual_seed(0)
    train = torch.randn(50, 16, generator=g)
    val = torch.randn(20, 16, generator=g)
    val[3] = train[7] * 2.0 + 0.01 * torch.randn(16, generator=g)  # rescaled, slightly edited copy
    paths = {"train": [f"t{i}.jpg" for i in range(50)], "val": [f"v{i}.jpg" for i in range(20)]}
    [f] = near_duplicates({"train": train, "val": val.numpy()}, paths_by_split=paths, chunk=6)
    assert (f.code, f.category, f.severity) == ("GL602", "data-leakage", "error")
    assert "1 of 20 val images (5.0%)" in f.evidence and "v3.jpg\n    ~ t7.jpg" in f.evidence
    assert near_duplicates({"train": train, "val": torch.randn(20, 16, generator=g)}) == []


def test_near_duplicates_of_a_large_split_are_estimated_on_a_sample():
    g = torch.Generator().manual_seed(1)
    train = torch.randn(400, 16, generator=g)
    val = torch.randn(3000, 16, generator=g)
    copies = torch.arange(0, 3000, 10)  # every tenth val image is a copy: 10%
    val[copies] = train[copies % 400] + 0.01 * torch.randn(len(copies), 16, generator=g)
    paths = {"train": [f"t{i}.jpg" for i in range(400)], "val": [f"v{i}.jpg" for i in range(3000)]}

    [f] = near_duplicates({"train": train, "val": val}, paths_by_split=paths, max_queries=500)

    assert "of a random sample of 500 of the 3000 val images" in f.evidence
    share = float(f.evidence.split("(")[1].split("%")[0])
    assert 7.0 <= share <= 13.0  # 10% estimated from 500 images
    assert f.title.startswith(f"About {share:.1f}% of val images")
    cited = [line.split()[0] for line in f.evidence.splitlines() if line.startswith("  v")]
    assert cited and all(int(c[1:-4]) % 10 == 0 for c in cited)  # real copies, right paths
    again = near_duplicates({"train": train, "val": val}, paths_by_split=paths, max_queries=500)
    assert again[0].evidence == f.evidence  # the sample is seeded
    [full] = near_duplicates({"train": train, "val": val}, max_queries=None)
    assert "300 of 3000 val images (10.0%)" in full.evidence


def test_near_duplicates_bad_inputs():
    with pytest.raises(ConfigError, match="'train'"):
        near_duplicates({"val": np.zeros((2, 3))})
    with pytest.raises(ConfigError, match="same backbone"):
        near_duplicates({"train": np.ones((2, 3)), "val": np.ones((2, 4))})
    with pytest.raises(ConfigError, match="threshold"):
        near_duplicates({"train": np.ones((2, 3))}, threshold=1.5)


def test_nearest_in_blocks_equals_one_product():
    from graftlab.doctor.preflight import _nearest

    g = torch.Generator().manual_seed(2)
    a, b = torch.randn(30, 8, generator=g), torch.randn(50, 8, generator=g)
    full_sim, full_idx = (a @ b.T).max(dim=1)
    sim, idx = _nearest(a, b, chunk=7, block=9)
    assert np.allclose(sim, full_sim.numpy()) and np.array_equal(idx, full_idx.numpy())
