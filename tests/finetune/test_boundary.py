"""Training from activations cached at the freeze boundary: the split is exact or refused, the
bank is reproducible and keyed, and a cached run trains what the uncached one trains."""

import warnings

import _tiny
import numpy as np
import pytest
import timm
import torch
from _tiny import PRE, _one_thread, config, data, tiny  # noqa: F401 (_one_thread: fixture)

from graftlab import create_backbone
from graftlab.errors import ConfigError
from graftlab.finetune import _groups as G
from graftlab.finetune import boundary
from graftlab.finetune.boundary import ActivationBank, cache_frozen_part, split_at
from graftlab.finetune.callbacks import Callback, Checkpoint
from graftlab.finetune.strategies import create_strategy
from graftlab.hardware import Execution

pytestmark = pytest.mark.filterwarnings("ignore:y_pred contains classes not in y_true")


CPU = Execution("cpu", "fp32", False)


def lite0():
    torch.manual_seed(0)
    return create_backbone("tf_efficientnet_lite0", weights="none", num_classes=10)


def trainer(model=None, strategy="top-k", **kw):
    return _tiny.trainer(model, strategy, **kw)


def bank(model, tmp_path, n_top=2, **kw):
    split = split_at(model, n_top, input_size=32)
    return ActivationBank(split, PRE, cache_root=tmp_path, execution=CPU, batch_size=8, **kw)


# -- the split ---------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("make", "n_top", "label"),
    [
        (lite0, 2, "blocks.4 -> blocks.5"),
        (lite0, 0, "bn2 -> head"),
        (lambda: tiny("resnet18"), 1, "layer3 -> layer4"),
    ],
)
def test_upper_of_lower_is_the_model_and_holds_its_own_parameters(make, n_top, label):
    model = make().eval()
    split = split_at(model, n_top, input_size=32)
    assert split is not None and split.label == label
    x = torch.randn(3, 3, 32, 32, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        torch.testing.assert_close(split.upper(split.lower(x)), model(x), rtol=1e-5, atol=1e-5)
    layers = G.backbone_layers(model)
    top = {id(p) for la in layers[len(layers) - n_top :] for p in la.params}
    upper = {id(p) for p in split.upper.parameters()}
    assert top <= upper and not top & {id(p) for p in split.lower.parameters()}
    head = model.get_classifier()
    assert all(any(p is q for q in split.upper.parameters()) for p in head.parameters())


def test_a_vit_adds_its_position_embedding_in_forward_so_it_is_not_split():
    vit = timm.create_model("vit_tiny_patch16_224", pretrained=False, num_classes=3, img_size=32)
    assert split_at(vit, 2, input_size=32) is None


def test_a_forward_that_is_not_the_modules_in_order_is_caught_numerically():
    model = lite0()
    features = model.forward_features
    model.forward_features = lambda x: features(x) * 2  # not visible in the module list
    assert split_at(model, 2, input_size=32) is None
    assert split_at(lite0(), 2, input_size=32) is not None


def test_nothing_frozen_is_no_split():
    model = lite0()
    assert split_at(model, len(G.backbone_layers(model)), input_size=32) is None


# -- the bank ------------------------------------------------------------------------------------
def test_the_bank_is_reproducible_and_views_differ(tmp_path):
    x, _ = data(6)
    model = lite0()
    a = bank(model, tmp_path / "a", views=3, augment="light", seed=1).build(x)
    b = bank(model, tmp_path / "b", views=3, augment="light", seed=1).build(x)
    c = bank(model, tmp_path / "c", views=3, augment="light", seed=2).build(x)
    assert a.array_.shape == (6, 3, 112, 2, 2) and a.array_.dtype == np.float16
    np.testing.assert_array_equal(a.array_, b.array_)
    np.testing.assert_array_equal(a.array_[:, 0], c.array_[:, 0])  # view 0: the eval transform
    assert not np.array_equal(a.array_[:, 1:], c.array_[:, 1:])
    assert not np.array_equal(a.array_[:, 0], a.array_[:, 1])
    with torch.no_grad():
        eval_view = a.split.lower.eval()(PRE.eval_batch(torch.from_numpy(x))).numpy()
    np.testing.assert_allclose(a.array_[:, 0], eval_view, rtol=2e-3, atol=2e-3)


def test_the_bank_is_keyed_by_the_lower_weights_and_reused_otherwise(tmp_path):
    x, _ = data(4)
    model = lite0()
    first = bank(model, tmp_path).build(x)
    again = bank(model, tmp_path).build(x)
    assert not first.reused_ and again.reused_ and again.path_ == first.path_
    with torch.no_grad():
        model.conv_stem.weight.mul_(1.5)
    other = bank(model, tmp_path).build(x)
    assert other.path_ != first.path_ and not other.reused_
    assert not np.array_equal(other.array_, first.array_)
    with torch.no_grad():
        model.classifier.weight.mul_(1.5)  # the top: not what the activations depend on
    assert bank(model, tmp_path).build(x).reused_


def test_views_do_not_depend_on_the_build_batch_size(tmp_path):
    x, _ = data(20)
    model = lite0()
    small = bank(model, tmp_path / "a", views=2, augment="light").build(x)
    large = ActivationBank(
        small.split, PRE, views=2, augment="light", cache_root=tmp_path / "b", batch_size=48
    ).build(x)
    # The same crops and flips; only the convolutions' rounding may differ with the batch.
    np.testing.assert_allclose(small.array_, large.array_, rtol=2e-3, atol=1e-4)


def test_a_read_only_image_memmap_builds_without_warnings_and_batches_are_ready(tmp_path):
    x, _ = data(6)
    np.save(tmp_path / "u8.npy", x)
    u8 = np.load(tmp_path / "u8.npy", mmap_mode="r")  # what the image cache hands over
    model = lite0().to(memory_format=torch.channels_last)
    split = split_at(model, 2, input_size=32)
    execution = Execution("cpu", "fp32", True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        b = ActivationBank(
            split, PRE, views=2, augment="light", execution=execution, cache_root=tmp_path
        ).build(u8)
        out = b.batch(np.array([1, 3, 4]), seed=7)
    # Float32, already in the upper part's memory format: nothing to convert in the step.
    assert out.dtype == torch.float32 and out.shape == (3, 112, 2, 2)
    assert out.is_contiguous(memory_format=torch.channels_last)
    views = torch.randint(2, (3,), generator=torch.Generator().manual_seed(7)).numpy()
    np.testing.assert_array_equal(out.numpy(), b.array_[[1, 3, 4], views].astype(np.float32))


def test_the_split_is_checked_once_per_run(tmp_path, monkeypatch):
    calls = []
    check = boundary._check
    monkeypatch.setattr(boundary, "_check", lambda *a: calls.append(1) or check(*a))
    x, _ = data(10)
    cfg = config(epochs=2, augment="light", views=2)
    cached, _ = cache_frozen_part(
        lite0(), create_strategy("top-k", unfreeze=2), PRE, (x[:8], x[8:]), cfg,
        execution=CPU, cache_root=tmp_path,
    )  # fmt: skip
    assert cached is not None and len(calls) == 1


@pytest.mark.parametrize("damage", ["flip a byte", "truncate", "no meta"])
def test_a_damaged_or_partial_entry_is_rebuilt(tmp_path, damage):
    x, _ = data(4)
    model = lite0()
    good = bank(model, tmp_path).build(x)
    expected = np.array(good.array_)
    path = good.path_ / "activations.npy"
    del good
    raw = bytearray(path.read_bytes())
    if damage == "flip a byte":
        raw[-5] ^= 0xFF
        path.write_bytes(bytes(raw))
    elif damage == "truncate":
        path.write_bytes(bytes(raw[: len(raw) // 2]))
    else:
        (path.parent / "meta.json").unlink()
    rebuilt = bank(model, tmp_path).build(x)
    assert not rebuilt.reused_
    np.testing.assert_array_equal(rebuilt.array_, expected)


def test_activations_beyond_float16_are_stored_as_float32(tmp_path):
    model = timm.create_model("resnet18", pretrained=False, num_classes=3)
    with torch.no_grad():
        model.bn1.weight.fill_(1e6)  # unbounded ReLU activations far beyond 65504
    x, _ = data(4)
    b = bank(model, tmp_path, n_top=3).build(x)
    assert b.array_.dtype == np.float32 and np.isfinite(b.array_).all()
    assert np.abs(b.array_).max() > 65504


def test_views_shrink_to_the_budget_and_the_cache_is_skipped_beyond_it(tmp_path):
    x, _ = data(10)
    model = lite0()
    per_view = 112 * 2 * 2 * 2  # float16 bytes of one image at blocks.4 -> blocks.5
    cfg = config(epochs=4, augment="light", views=4)
    args = (model, create_strategy("top-k", unfreeze=2), PRE, (x[:8], x[8:]), cfg)
    cached, note = cache_frozen_part(
        *args, execution=CPU, cache_root=tmp_path, budget=per_view * (2 + 2 * 8)
    )
    assert cached.train.array_.shape[1] == 2 and "2 views" in note
    cached, note = cache_frozen_part(*args, execution=CPU, cache_root=tmp_path, budget=per_view)
    assert cached is None and "budget" in note


# -- the trainer ---------------------------------------------------------------------------------
def test_a_cached_top_k_run_trains_the_top_and_leaves_the_frozen_part_bit_identical():
    model = tiny()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    grads = []

    class Spy(Callback):
        def on_batch_end(self, trainer, step, logs):
            m = trainer.model
            grads.append((m.blocks[4][0].conv_pw.weight.grad, m.blocks[0][0].conv.weight.grad))

    t = trainer(model, unfreeze=1, bn="train", callbacks=[Spy()], cfg=config(augment="light"))
    t.fit()
    assert t.boundary_ is not None
    assert "frozen part cached at the boundary (blocks.3 -> blocks.4), 2 views" in t.summary_
    assert grads and all(top is not None and top.abs().sum() > 0 for top, _ in grads)
    assert all(low is None for _, low in grads)
    after = model.state_dict()
    lower = [
        k for k in before if k.startswith(("conv_stem", "bn1", *(f"blocks.{i}" for i in range(4))))
    ]
    assert any("running_mean" in k for k in lower)
    assert all(torch.equal(before[k], after[k]) for k in lower)
    assert not torch.equal(before["blocks.4.0.conv_pw.weight"], after["blocks.4.0.conv_pw.weight"])
    # bn="train": the trainable stage's statistics did move, from the cached activations.
    assert not torch.equal(
        before["blocks.4.0.bn1.running_mean"], after["blocks.4.0.bn1.running_mean"]
    )


def test_cached_and_uncached_runs_give_the_same_losses():
    runs = []
    for cache in (True, False):
        cfg = config(epochs=3, lr=3e-3, augment="none", views=1, boundary_cache=cache)
        runs.append(trainer(unfreeze=2, cfg=cfg).fit())
    cached, plain = runs
    assert cached.boundary_ is not None and plain.boundary_ is None
    assert "boundary cache: off (boundary_cache=False)" in plain.summary_
    for key in ("train_loss", "val_loss"):
        a = [h[key] for h in cached.history_]
        b = [h[key] for h in plain.history_]
        np.testing.assert_allclose(a, b, rtol=1e-3)
    assert cached.history_[-1]["train_loss"] < cached.history_[0]["train_loss"]


def test_a_resumed_cached_run_ends_with_the_same_weights_as_an_uninterrupted_one(tmp_path):
    class Interrupt(Callback):
        def on_epoch_start(self, trainer, epoch):
            if epoch == 1:
                raise KeyboardInterrupt

    cfg = config(epochs=3, deterministic=True, lr=3e-3, augment="light", views=3)
    make = lambda cbs: trainer(tiny(drop_rate=0.3), cfg=cfg, callbacks=cbs, unfreeze=2)  # noqa: E731
    whole = make([Checkpoint(tmp_path / "a")]).fit()
    with pytest.raises(KeyboardInterrupt):
        make([Checkpoint(tmp_path / "b"), Interrupt()]).fit()
    resumed = make([Checkpoint(tmp_path / "b")]).resume(tmp_path / "b" / "last.pt")
    assert whole.boundary_ is not None and resumed.boundary_.train.reused_
    a = torch.load(tmp_path / "a" / "last.pt", weights_only=True)["model"]
    b = torch.load(tmp_path / "b" / "last.pt", weights_only=True)["model"]
    for key in a:
        torch.testing.assert_close(b[key], a[key], rtol=0, atol=1e-6)
    assert [h["val_loss"] for h in resumed.history_] == [h["val_loss"] for h in whole.history_]


def test_gradual_caches_below_the_deepest_stage_it_unfreezes():
    t = trainer(strategy="gradual", cfg=config(epochs=2)).fit()
    assert "(blocks.2 -> blocks.3)" in t.summary_  # 2 epochs: the top 2 of 6 stages train


def test_strategies_without_a_fixed_frozen_part_and_vits_fall_back_saying_why():
    t = trainer(strategy="lp-ft", cfg=config(epochs=1)).fit()
    assert t.boundary_ is None and "keeps no part frozen" in t.summary_
    vit = tiny("vit_tiny_patch16_224", img_size=32)
    t = trainer(vit, unfreeze=1, cfg=config(epochs=1)).fit()
    assert t.boundary_ is None and "cls_token" in t.summary_ and "runs every step" in t.summary_


@pytest.mark.parametrize(("field", "value"), [("boundary_cache", "yes"), ("views", 0)])
def test_bad_boundary_options_are_config_errors(field, value):
    with pytest.raises(ConfigError, match=field):
        config(**{field: value}).validate()
