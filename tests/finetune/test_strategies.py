"""Fine-tuning strategies: what each freezes, its parameter groups and lrs, the BN policy."""

import pytest
import timm
import torch
from _tiny import _one_thread  # noqa: F401 (autouse fixture)
from torch import nn

from graftlab.errors import ConfigError
from graftlab.finetune.config import TrainConfig
from graftlab.finetune.strategies import (
    create_strategy,
    list_strategies,
    strategy_from_config,
)

LR, WD = 1e-3, 0.05


def tiny(name="test_resnet", **kw):
    torch.manual_seed(0)
    return timm.create_model(name, pretrained=False, num_classes=3, **kw)


def trainable(model):
    return {n for n, p in model.named_parameters() if p.requires_grad}


def groups_of(strategy, model):
    strategy.freeze_before_training(model)
    return strategy.param_groups(model, LR, WD)


def names_in(groups):
    return [n for g in groups for n in g["param_names"]]


def test_the_five_strategies_are_registered():
    assert {"lp", "lp-ft", "full", "top-k", "gradual"} <= set(list_strategies())


def test_unknown_strategy_names_the_closest():
    with pytest.raises(ConfigError, match="lp-ft"):
        create_strategy("lpft")


def test_unknown_argument_is_a_config_error_with_a_suggestion():
    with pytest.raises(ConfigError, match="layer_decay"):
        create_strategy("lp-ft", layer_decy=0.5)


def test_arguments_are_stored_unchanged_and_checked_when_used():
    strategy = create_strategy("lp-ft", layer_decay=7)  # no error yet (scikit-learn style)
    assert strategy.layer_decay == 7
    with pytest.raises(ConfigError, match=r"Did you mean 0.7"):
        groups_of(strategy, tiny())


def test_bad_bn_policy_is_refused():
    with pytest.raises(ConfigError, match="'frozen' or 'train'"):
        groups_of(create_strategy("lp-ft", bn="freeze"), tiny())


def test_lp_trains_the_head_only():
    model, strategy = tiny(), create_strategy("lp")
    groups = groups_of(strategy, model)
    assert trainable(model) == {"fc.weight", "fc.bias"}
    assert sorted(names_in(groups)) == ["fc.bias", "fc.weight"]
    assert strategy.trains_backbone is False and strategy.init_head == "probe"


def test_lp_ft_trains_everything_with_lr_decreasing_from_head_to_stem():
    model, strategy = tiny(), create_strategy("lp-ft", layer_decay=0.5)
    groups = groups_of(strategy, model)
    assert strategy.init_head == "probe" and strategy.trains_backbone
    assert trainable(model) == {n for n, _ in model.named_parameters()}
    # Every parameter in exactly one group.
    assert sorted(names_in(groups)) == sorted(n for n, _ in model.named_parameters())
    lr_of = {n: g["lr"] for g in groups for n in g["param_names"]}
    # test_resnet's stages: stem (conv1, bn1), layer1..layer4, then the head fc.
    order = [
        "conv1.0.weight",
        "layer1.0.conv1.weight",
        "layer2.0.conv1.weight",
        "layer3.0.conv1.weight",
        "layer4.0.conv1.weight",
        "fc.weight",
    ]
    rates = [lr_of[n] for n in order]
    assert rates == pytest.approx([LR * 0.5**k for k in (5, 4, 3, 2, 1, 0)])
    # Everything within a stage shares its rate.
    assert lr_of["layer2.0.bn1.weight"] == lr_of["layer2.0.conv1.weight"]


@pytest.mark.parametrize("name", ["lp-ft", "full", "top-k", "gradual"])
def test_no_weight_decay_on_norms_and_biases_and_the_head_bias(name):
    model, strategy = tiny(), create_strategy(name)
    groups = groups_of(strategy, model)
    if name == "gradual":
        strategy.on_epoch_start(model, torch.optim.AdamW(groups), 0)
    wd_of = {n: g["weight_decay"] for g in groups for n in g["param_names"]}
    assert wd_of["fc.bias"] == 0.0
    assert wd_of["fc.weight"] == WD
    for n, p in model.named_parameters():
        if n in wd_of:
            assert wd_of[n] == (0.0 if p.ndim <= 1 else WD), n


def test_vit_position_embedding_and_class_token_are_not_decayed():
    model = tiny("test_vit")
    groups = groups_of(create_strategy("lp-ft"), model)
    wd_of = {n: g["weight_decay"] for g in groups for n in g["param_names"]}
    assert wd_of["pos_embed"] == 0.0 and wd_of["cls_token"] == 0.0
    assert wd_of["blocks.0.attn.qkv.weight"] == WD


def test_lp_ft_uses_timm_stages_for_vit_too():
    model = tiny("test_vit")
    groups = groups_of(create_strategy("lp-ft", layer_decay=0.5), model)
    lr_of = {n: g["lr"] for g in groups for n in g["param_names"]}
    assert lr_of["head.weight"] == LR
    assert lr_of["blocks.5.attn.qkv.weight"] == pytest.approx(LR / 2)
    assert lr_of["blocks.4.attn.qkv.weight"] == pytest.approx(LR / 4)
    assert lr_of["patch_embed.proj.weight"] < lr_of["blocks.0.attn.qkv.weight"]


def test_full_has_a_random_head_and_one_lr():
    model, strategy = tiny(), create_strategy("full")
    groups = groups_of(strategy, model)
    assert strategy.init_head == "random"
    assert trainable(model) == {n for n, _ in model.named_parameters()}
    assert {g["lr"] for g in groups} == {LR}


def test_top_k_trains_the_head_and_the_last_k_stages_only():
    model = tiny()
    groups = groups_of(create_strategy("top-k", unfreeze=2), model)
    expected = {
        n for n, _ in model.named_parameters() if n.startswith(("layer3.", "layer4.", "fc."))
    }
    assert trainable(model) == expected
    assert set(names_in(groups)) == expected


def test_top_k_frozen_stages_run_in_eval_mode_and_the_others_train():
    model, strategy = tiny(), create_strategy("top-k", unfreeze=1, bn="train")
    groups_of(strategy, model)
    strategy.set_train_mode(model)
    assert not model.layer1.training and not model.layer3.training
    assert not model.layer3[0].bn1.training and not model.bn1.training
    assert model.layer4.training and model.layer4[0].bn1.training and model.fc.training


def test_top_k_more_stages_than_the_model_has_is_a_config_error():
    with pytest.raises(ConfigError, match="from 0 to 5"):
        groups_of(create_strategy("top-k", unfreeze=9), tiny())


def test_gradual_unfreezes_one_stage_per_epoch_top_first_with_lower_lrs():
    model, strategy = tiny(), create_strategy("gradual", layer_decay=0.5)
    groups = groups_of(strategy, model)
    assert trainable(model) == {"fc.weight", "fc.bias"}
    optimizer = torch.optim.AdamW(groups)
    added = []
    for epoch in range(3):
        before = len(optimizer.param_groups)
        strategy.on_epoch_start(model, optimizer, epoch)
        added.append([g["name"] for g in optimizer.param_groups[before:]])
    assert added == [
        ["layer4", "layer4_no_decay"],
        ["layer3", "layer3_no_decay"],
        ["layer2", "layer2_no_decay"],
    ]
    lrs = {g["name"]: g["lr"] for g in optimizer.param_groups}
    assert lrs["layer4"] == pytest.approx(LR / 2)
    assert lrs["layer3"] == pytest.approx(LR / 4)
    assert lrs["layer2"] == pytest.approx(LR / 8)
    assert "layer1.0.conv1.weight" not in trainable(model)
    assert "layer2.0.conv1.weight" in trainable(model)


def test_gradual_epochs_per_stage_delays_unfreezing():
    model, strategy = tiny(), create_strategy("gradual", epochs_per_stage=2)
    optimizer = torch.optim.AdamW(groups_of(strategy, model))
    counts = []
    for epoch in range(4):
        strategy.on_epoch_start(model, optimizer, epoch)
        counts.append(strategy.unfrozen_)
    assert counts == [1, 1, 2, 2]


def test_gradual_state_dict_restores_the_unfrozen_stages_and_groups():
    model, strategy = tiny(), create_strategy("gradual")
    optimizer = torch.optim.AdamW(groups_of(strategy, model))
    for epoch in range(2):
        strategy.on_epoch_start(model, optimizer, epoch)
    resumed_model, resumed = tiny(), create_strategy("gradual")
    resumed.load_state_dict(strategy.state_dict())
    groups = groups_of(resumed, resumed_model)
    assert [g["name"] for g in groups] == [g["name"] for g in optimizer.param_groups]
    assert trainable(resumed_model) == trainable(model)
    # The optimizer state of the original fits the rebuilt groups.
    torch.optim.AdamW(groups).load_state_dict(optimizer.state_dict())


def test_load_state_dict_of_another_strategy_is_refused():
    with pytest.raises(ConfigError, match="gradual"):
        create_strategy("lp-ft").load_state_dict(create_strategy("gradual").state_dict())


@pytest.mark.parametrize("bn", ["frozen", "train"])
def test_set_train_mode_applies_the_bn_policy(bn):
    model, strategy = tiny("test_efficientnet"), create_strategy("lp-ft", bn=bn)
    groups_of(strategy, model)
    strategy.set_train_mode(model)
    norms = [m for m in model.modules() if isinstance(m, nn.BatchNorm2d)]
    assert norms and all(m.training == (bn == "train") for m in norms)
    assert model.training and model.conv_stem.training


def test_describe_lists_frozen_parts_groups_with_sizes_and_lrs_and_bn_policy():
    model, strategy = tiny(), create_strategy("top-k", unfreeze=1)
    optimizer = torch.optim.AdamW(groups_of(strategy, model))
    text = strategy.describe(model, optimizer)
    assert "top-k" in text
    assert "frozen (eval mode): conv1+bn1, layer1, layer2, layer3" in text
    lines = {line.split()[0]: line for line in text.splitlines() if line.startswith("  ")}
    assert f"{model.fc.weight.numel():,} params" in lines["head"]
    assert "lr 1.00e-03" in lines["head"] and "wd 0.05" in lines["head"]
    assert "wd 0 " in lines["head_no_decay"] + " "
    assert "lr 7.00e-04" in lines["layer4"]
    assert set(lines) == {"head", "head_no_decay", "layer4", "layer4_no_decay"}
    assert "BatchNorm: frozen" in text


def test_strategy_from_config_passes_the_options_it_takes():
    s = strategy_from_config(TrainConfig(strategy="top-k", unfreeze=3, layer_decay=0.5, bn="train"))
    assert (s.name, s.unfreeze, s.layer_decay, s.bn) == ("top-k", 3, 0.5, "train")
    assert strategy_from_config(TrainConfig(strategy="full", bn="train")).bn == "train"


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"strategy": "lp-ft", "unfreeze": 1}, "'unfreeze' does not apply to strategy 'lp-ft'"),
        ({"strategy": "full", "layer_decay": 0.5}, "it is an option of 'lp-ft', 'top-k'"),
        ({"strategy": "lp", "unfreeze": 3}, "it is an option of 'top-k'"),
    ],
)
def test_an_option_the_strategy_does_not_take_is_refused_not_ignored(options, message):
    with pytest.raises(ConfigError, match=message):
        TrainConfig(**options).validate()
    with pytest.raises(ConfigError, match=message):
        strategy_from_config(TrainConfig(**options))
    # At its default the option is not set: every strategy runs with the defaults.
    TrainConfig(strategy=options["strategy"]).validate()
