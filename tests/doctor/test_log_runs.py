"""Run directories of other tools (Lightning CSVLogger versions, Trainer output folders), alone
and given with the script that made them: one diagnosis, one finding per cause."""

from __future__ import annotations

import contextlib
import json
from pathlib import Path

import pytest

from graftlab.cli.main import run
from graftlab.doctor.logs import check_run
from graftlab.doctor.targets import diagnose, is_run_dir
from graftlab.errors import ArtifactError

FORMATS = Path(__file__).parent / "cases" / "logs" / "formats"
TRAINER = FORMATS / "hf-trainer-4__overfitting__bug.log"

#: Lightning's CSVLogger: training and validation metrics of one epoch on two lines.
LIGHTNING = "epoch,step,train_loss,val_acc,val_loss\n" + "".join(
    f"{e},{10 * e + 9},{tl},,\n{e},{10 * e + 9},,{va},{vl}\n"
    for e, (tl, va, vl) in enumerate(
        [(0.70, 0.80, 0.52), (0.35, 0.85, 0.41), (0.15, 0.86, 0.44), (0.06, 0.85, 0.55),
         (0.02, 0.85, 0.68), (0.01, 0.84, 0.80)]
    )
)  # fmt: skip

#: A plain PyTorch loop, 60 epochs without augmentation (GL313: the code's view of overfitting),
#: that logs its metrics with Lightning's CSVLogger.
SCRIPT = """\
import torch
from lightning.pytorch.loggers import CSVLogger
from torchvision import datasets, models, transforms

tf = transforms.Compose([transforms.Resize((224, 224)), transforms.ToTensor(),
                         transforms.Normalize([0.485, 0.456, 0.406], [0.229, 0.224, 0.225])])
train = datasets.ImageFolder("data/train", transform=tf)
loader = torch.utils.data.DataLoader(train, batch_size=32, shuffle=True)
model = models.resnet50(weights="IMAGENET1K_V2")
model.fc = torch.nn.Linear(2048, len(train.classes))
opt = torch.optim.Adam(model.parameters(), lr=1e-4)
logger = CSVLogger("lightning_logs", name="")
for epoch in range(60):
    model.train()
    for x, y in loader:
        opt.zero_grad()
        loss = torch.nn.functional.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
    logger.log_metrics({"epoch": epoch, "train_loss": loss.item()}, step=epoch)
logger.save()
"""


def lightning_run(root: Path) -> Path:
    version = root / "lightning_logs" / "version_0"
    version.mkdir(parents=True)
    (version / "metrics.csv").write_text(LIGHTNING)
    return version


def trainer_run(root: Path) -> Path:
    """A Trainer output folder whose history is in its checkpoints' trainer_state.json."""
    history = [eval(line) for line in TRAINER.read_text().splitlines()]  # our own file
    for i, entry in enumerate(history):
        entry["step"] = 50 * (i // 2 + 1)  # log_history entries carry their global step
    out = root / "out"
    for step, entries in ((100, history[:4]), (300, history)):
        (out / f"checkpoint-{step}").mkdir(parents=True)
        state = {"global_step": step, "log_history": entries}
        (out / f"checkpoint-{step}" / "trainer_state.json").write_text(json.dumps(state))
    return out


def test_a_lightning_version_folder_is_a_run_read_from_its_metrics_csv(tmp_path):
    version = lightning_run(tmp_path)
    assert is_run_dir(version) and not is_run_dir(tmp_path / "lightning_logs")
    [f] = [f for f in check_run(version) if f.severity != "info"]
    assert (f.code, f.category) == ("GL412", "overfitting")
    assert "epoch 1" in f.title


def test_a_trainer_output_folder_is_read_from_its_newest_checkpoint(tmp_path):
    out = trainer_run(tmp_path)
    assert is_run_dir(out)
    [f] = [f for f in check_run(out) if f.severity != "info"]
    assert (f.code, f.category) == ("GL412", "overfitting")
    assert "0.8" in f.title  # the last evaluation, only in checkpoint-300's history


def test_a_trainer_state_without_history_is_a_clear_error(tmp_path):
    (tmp_path / "trainer_state.json").write_text('{"log_history": []}')
    with pytest.raises(ArtifactError, match="no log_history"):
        check_run(tmp_path)
    (tmp_path / "trainer_state.json").write_text("{oops")
    with pytest.raises(ArtifactError, match="not valid JSON"):
        check_run(tmp_path)


def test_a_script_and_its_run_folder_are_one_diagnosis_with_one_finding_per_cause(tmp_path):
    script = tmp_path / "train.py"
    script.write_text(SCRIPT)
    version = lightning_run(tmp_path)
    pairs = [(t, f) for t, f in diagnose([script, version]) if f.severity != "info"]
    overfit = [(t, f) for t, f in pairs if f.category == "overfitting"]
    assert len(overfit) == 1, [(t, f.code) for t, f in pairs]
    _, finding = overfit[0]
    # the code's cause (no augmentation) and the run's curve are one finding with both
    codes = {finding.code} | {c for c in ("GL313", "GL412") if f"Also {c}" in finding.evidence}
    assert codes == {"GL313", "GL412"}, finding.evidence
    assert "train.py" in finding.evidence and "val_loss" in finding.evidence


def test_the_cli_takes_a_script_and_a_run_folder_together(tmp_path, capsys):
    script = tmp_path / "train.py"
    script.write_text(SCRIPT)
    version = lightning_run(tmp_path)
    with contextlib.suppress(SystemExit):
        run(["doctor", str(script), str(version), "--json"])
    rows = json.loads(capsys.readouterr().out)
    assert {r["target"] for r in rows} <= {str(script), str(version)}
    assert [r["category"] for r in rows].count("overfitting") == 1


def test_trainer_state_entries_are_steps_at_their_global_step(tmp_path):
    from graftlab.doctor._logparse import parse_log
    from graftlab.doctor._logruns import trainer_history, trainer_state_file

    log = parse_log(trainer_history(trainer_state_file(trainer_run(tmp_path))))
    assert [s.step for s in log.steps][:3] == [50, 100, 150]
    assert len(log.rows) == 6
