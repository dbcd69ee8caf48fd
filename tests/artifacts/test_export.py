"""ONNX and TorchScript export: uint8 NHWC in, probabilities out, equal to PyTorch's."""

import json
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import pytest
import torch
from _kit import copy_run, make_artifact

from graftlab.artifacts.artifact import load_artifact, save_artifact
from graftlab.artifacts.export import center_crop, export, run_exported
from graftlab.errors import ConfigError
from graftlab.evaluation._inference import predict_files

ATOL = 1e-4  # fp32: the largest probability difference a user would accept


@pytest.fixture(scope="module")
def tiny_run(tiny_run, tmp_path_factory):
    """The shared real run, copied: exports are written into the run directory."""
    return copy_run(tiny_run, tmp_path_factory.mktemp("export") / "copy")


@pytest.fixture(scope="module")
def onnx_export(tiny_run):
    return export(tiny_run, "onnx", verify=True)


def _crops(run, paths):
    prep = load_artifact(run).preprocess
    return np.stack([center_crop(prep.load(p), prep.input_size) for p in paths])


def test_onnx_matches_pytorch_on_the_runs_images(onnx_export, tiny_run):
    v = onnx_export.verify
    assert onnx_export.path == tiny_run / "model.onnx"
    assert v["images"] == "manifest" and v["n_images"] == 8
    assert v["max_abs_diff"] <= ATOL
    # The documented consumer recipe (load + centre crop) gives what graftlab predict gives.
    assert v["max_abs_diff_vs_predict"] <= ATOL
    assert v["same_top1"]


def test_onnx_graph_contract_dynamic_batch_and_metadata(onnx_export, tiny_run):
    model = onnx.load(str(onnx_export.path))
    (inp,) = model.graph.input
    assert inp.name == "images"
    assert inp.type.tensor_type.elem_type == onnx.TensorProto.UINT8
    dims = [d.dim_param or d.dim_value for d in inp.type.tensor_type.shape.dim]
    assert isinstance(dims[0], str) and dims[1:] == [32, 32, 3]
    meta = {p.key: p.value for p in model.metadata_props}
    assert json.loads(meta["graftlab.classes"]) == ["cat", "dog", "fox"]
    assert json.loads(meta["graftlab.preprocessing"])["input_size"] == 32
    assert meta["graftlab.task"] == "multiclass"

    session = ort.InferenceSession(str(onnx_export.path), providers=["CPUExecutionProvider"])
    paths = sorted(str(p) for p in (tiny_run.parent / "data" / "test").rglob("*.png"))
    reference = predict_files(load_artifact(tiny_run), paths).probs
    for batch in (1, 5, len(paths)):
        got = session.run(None, {"images": _crops(tiny_run, paths[:batch])})[0]
        assert got.shape == (batch, 3) and got.dtype == np.float32
        np.testing.assert_allclose(got, reference[:batch], atol=ATOL)
        np.testing.assert_allclose(got.sum(1), 1.0, atol=1e-5)


def test_multilabel_export_uses_sigmoid_and_a_low_opset_uses_the_legacy_exporter(tmp_path):
    art_dir = make_artifact(tmp_path / "ml", task="multilabel")
    images = np.random.default_rng(0).integers(0, 256, (4, 32, 32, 3), dtype=np.uint8)
    result = export(art_dir, "onnx", opset=17, verify=True, verify_images=images)
    assert result.path == tmp_path / "ml.onnx"
    assert result.opset == 17 and result.exporter == "torchscript-based"
    assert result.verify["max_abs_diff"] <= ATOL
    art = load_artifact(art_dir)
    with torch.no_grad():
        x = art.preprocess.eval_batch(torch.from_numpy(images))
        expected = torch.sigmoid(art.model(x)).numpy()
    got = run_exported(result.path, "onnx", images)
    np.testing.assert_allclose(got, expected, atol=ATOL)
    assert not np.allclose(got.sum(1), 1.0, atol=1e-3)  # sigmoid, not softmax


@pytest.mark.filterwarnings("ignore:`torch.jit.load` is deprecated:FutureWarning")
def test_torchscript_export_matches_pytorch(tiny_run, tmp_path):
    result = export(tiny_run, "torchscript", tmp_path / "m.pt", verify=True)
    assert result.verify["max_abs_diff"] <= ATOL
    assert result.verify["max_abs_diff_vs_predict"] <= ATOL
    extra = {"graftlab.json": ""}
    torch.jit.load(str(result.path), _extra_files=extra)
    assert json.loads(json.loads(extra["graftlab.json"])["graftlab.classes"]) == [
        "cat",
        "dog",
        "fox",
    ]


def test_bad_requests_are_user_errors(tiny_run, tmp_path):
    with pytest.raises(ConfigError, match="Did you mean 'onnx'"):
        export(tiny_run, "onnxx")
    with pytest.raises(ConfigError, match="ONNX only"):
        export(tiny_run, "torchscript", tmp_path / "m.pt", opset=17)
    with pytest.raises(ConfigError, match="opset"):
        export(tiny_run, "onnx", tmp_path / "m.onnx", opset=3)


def test_center_crop_selects_what_eval_batch_selects():
    from graftlab.data.transforms import Preprocess

    u8 = np.random.default_rng(1).integers(0, 256, (2, 37, 37, 3), dtype=np.uint8)
    p = Preprocess(32, "bicubic", 0.875, "center", (0.0, 0.0, 0.0), (1.0, 1.0, 1.0))
    expected = p.eval_batch(torch.from_numpy(u8)).permute(0, 2, 3, 1).numpy() * 255
    np.testing.assert_allclose(center_crop(u8, 32).astype(np.float32), expected, atol=1e-3)


def _imagenet_photos() -> list[Path]:
    """The ImageNet photos foolbox ships (a test dependency), found without importing it."""
    import importlib.util

    spec = importlib.util.find_spec("foolbox")
    if spec is None or spec.origin is None:
        return []
    return sorted((Path(spec.origin).parent / "data").glob("imagenet_*.jpg"))[:6]


def test_packaged_lite0_onnx_matches_pytorch(tiny_run, tmp_path):
    from graftlab.backbones import create_backbone
    from graftlab.data.transforms import Preprocess
    from graftlab.finetune.task import Task

    # The pretrained 1000-class head: on real photos its softmax is peaked, the hardest case
    # for probability parity.
    model = create_backbone("tf_efficientnet_lite0", weights="packaged")
    prep = Preprocess.from_model(model)
    classes = [f"n{i}" for i in range(1000)]
    save_artifact(
        tmp_path / "lite0", model, task=Task("multiclass", 1000), classes=classes, preprocess=prep
    )
    paths = _imagenet_photos() or sorted((tiny_run.parent / "data" / "test").rglob("*.png"))[:6]
    photos = np.stack([center_crop(prep.load(p), prep.input_size) for p in paths])
    noise = np.random.default_rng(2).integers(0, 256, (2, 224, 224, 3), dtype=np.uint8)
    result = export(
        tmp_path / "lite0", "onnx", verify=True, verify_images=np.concatenate([photos, noise])
    )
    assert result.input_shape[1:] == [224, 224, 3]
    assert result.verify["max_abs_diff"] <= ATOL
    assert result.verify["same_top1"]
    print(
        f"lite0 ONNX parity on {len(paths)} photos + 2 noise images: "
        f"max abs diff {result.verify['max_abs_diff']:.2e}"
    )
