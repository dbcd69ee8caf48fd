"""Predictions gathered from a shuffling DataLoader matched to the dataset's label list."""

from __future__ import annotations

from pathlib import Path

from graftlab.doctor.script import check_script

CASES = Path(__file__).parents[1] / "cases" / "scripts"

EVAL = """\
import torch
from torch.utils.data import DataLoader
from sklearn.metrics import accuracy_score
from tqdm import tqdm
loader = DataLoader(test_set, batch_size=64, shuffle={shuffle})
model.eval()
preds, seen = [], []
with torch.no_grad():
    for x, y in {it}:
        preds.{grow}(model(x).argmax(1).tolist())
        seen.{grow}(y.tolist())
{score}
"""


def _lo(src: str) -> list:
    return [
        f
        for f in check_script(src, filename="post.py")
        if f.code == "GL312" and f.severity == "warning"
    ]


def test_shuffled_predictions_against_dataset_targets():
    for it in ("loader", "tqdm(loader)"):
        src = EVAL.format(
            shuffle="True",
            it=it,
            grow="extend",
            score="print(accuracy_score(test_set.targets, preds))",
        )
        assert _lo(src), it
    cat = EVAL.format(
        shuffle="True",
        it="loader",
        grow="append",
        score="p = torch.tensor(preds)\nacc = (p == torch.tensor(test_set.labels)).float().mean()",
    )
    assert _lo(cat)


def test_unshuffled_or_batch_labels_are_silent():
    same_pass = EVAL.format(
        shuffle="True", it="loader", grow="extend", score="print(accuracy_score(seen, preds))"
    )
    assert _lo(same_pass) == []
    ordered = EVAL.format(
        shuffle="False",
        it="loader",
        grow="extend",
        score="print(accuracy_score(test_set.targets, preds))",
    )
    assert _lo(ordered) == []


def test_training_loop_reading_targets_is_silent():
    src = """\
import torch
from torch.utils.data import DataLoader
loader = DataLoader(train_set, batch_size=64, shuffle=True)
losses = []
for x, y in loader:
    loss = criterion(model(x), y)
    loss.backward()
    opt.step()
    losses.append(loss.item())
weights = compute_weights(train_set.targets, losses)
"""
    assert _lo(src) == []


NUMERIC = """\
import torch
from pathlib import Path
from torchvision import datasets
test_ds = datasets.ImageFolder("data/test", tf)
model.eval()
for i in range(len(test_ds)):
    img, label = test_ds[i]
    pred = model(img[None]).argmax(1).item()
    path = test_ds.imgs[i][0]
    true_class = {read}
    print(pred == true_class)
"""


def test_folder_number_taken_from_the_image_path():
    for read in ('int(path.split("/")[-2])', "int(Path(path).parent.name)"):
        found = [
            f for f in check_script(NUMERIC.format(read=read), filename="p.py") if f.code == "GL304"
        ]
        assert found, read
    mapped = NUMERIC.format(read="int(idx_to_class[pred])").replace(
        "model.eval()",
        "idx_to_class = {v: k for k, v in test_ds.class_to_idx.items()}\nmodel.eval()",
    )
    assert [f for f in check_script(mapped, filename="p.py") if f.code == "GL304"] == []


def test_a_shuffled_prediction_loop_that_keeps_the_ids_is_not_reported():
    src = (CASES / "label-order-mismatch__6__bug.py").read_text()
    kept = src.replace("for images, _ in loader:", "for images, paths in loader:").replace(
        "        preds.extend(", "        names.extend(paths)\n        preds.extend("
    )
    assert not [f for f in check_script(kept) if f.code == "GL218"]


def test_batches_kept_from_a_shuffled_loader_without_a_model_are_not_predictions():
    stats = (
        "import torch\nfrom torch.utils.data import DataLoader\n"
        "loader = DataLoader(ds, batch_size=64, shuffle=True)\nbatches = []\n"
        "for images, _ in loader:\n    batches.append(images.mean(dim=(0, 2, 3)))\n"
        "print(torch.stack(batches).mean(0))\n"
    )
    assert not [f for f in check_script(stats) if f.code == "GL218"]


COMPREHENDED = """\
import torch
from torch.utils.data import DataLoader
holdout = DataLoader(holdout_set, batch_size=128, shuffle=True)
with torch.no_grad():
    guesses = torch.cat([net(images).argmax(dim=1) for images, _ in holdout])
truth = torch.as_tensor(holdout_set.targets)
print("holdout accuracy", (guesses == truth).float().mean().item())
"""


def test_predictions_gathered_by_a_comprehension_over_a_shuffling_loader():
    from graftlab.doctor.script import check_script

    found = [f for f in check_script(COMPREHENDED, filename="post.py") if f.code == "GL312"]
    assert len(found) == 1 and "post.py:5:" in found[0].evidence
    fixed = COMPREHENDED.replace("shuffle=True", "shuffle=False")
    assert not [f for f in check_script(fixed) if f.category == "label-order-mismatch"]
