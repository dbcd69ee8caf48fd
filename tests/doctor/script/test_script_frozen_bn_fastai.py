"""GL133: a Keras backbone frozen with its BatchNorm layers, set beside a fastai learner."""

from __future__ import annotations

PASTE = """\
data = ImageDataBunch.from_folder(path, valid="test", size=64).normalize(imagenet_stats)
learner = cnn_learner(data, models.resnet50, metrics=[accuracy]{bn})
learner.fit(3)
from tensorflow import keras
base = keras.applications.ResNet50(weights="imagenet", include_top=False)
{freeze}
x = keras.layers.GlobalAveragePooling2D()(base.output)
out = keras.layers.Dense(10, activation="softmax")(x)
net = keras.models.Model(inputs=base.input, outputs=out)
net.compile(loss="sparse_categorical_crossentropy", optimizer="adam", metrics=["accuracy"])
net.fit(train_ds, epochs=3)
"""
LOOP = "for layer in base.layers:\n    layer.trainable = False"


def _bn(src: str) -> list:
    from graftlab.doctor.script import check_script

    return [f for f in check_script(src, filename="post.py") if f.code == "GL133"]


def test_a_keras_backbone_frozen_whole_beside_a_fastai_learner_is_reported():
    (f,) = _bn(PASTE.format(bn="", freeze=LOOP))
    assert f.severity == "warning" and f.category == "batchnorm"
    assert "ResNet50" in f.title
    assert all(f"post.py:{n}:" in f.evidence for n in (2, 5, 7))
    assert "train_bn" in f.explanation and "inferred" in f.explanation
    assert "BatchNormalization" in f.fix
    # the whole backbone frozen at once is the same freeze
    (g,) = _bn(PASTE.format(bn="", freeze="base.trainable = False"))
    assert "post.py:6:" in g.evidence
    # fastai 2's name for the learner
    src = PASTE.format(bn="", freeze=LOOP).replace("cnn_learner", "vision_learner")
    assert [h.code for h in _bn(src)] == ["GL133"]


def test_like_for_like_comparisons_and_a_lone_frozen_backbone_stay_silent():
    # the keras.io recipe alone: a frozen backbone is the right first phase
    alone = PASTE.format(bn="", freeze=LOOP).split("\n", 3)[3]
    assert not _bn(alone)
    # fastai told to freeze BatchNorm too: the two runs are the same experiment
    assert not _bn(PASTE.format(bn=", train_bn=False", freeze=LOOP))
    # the Keras side keeps its BatchNorm layers trainable, as fastai does
    keep = (
        "for layer in base.layers:\n"
        "    layer.trainable = isinstance(layer, keras.layers.BatchNormalization)"
    )
    assert not _bn(PASTE.format(bn="", freeze=keep))
    # only the lower layers frozen, the top blocks fine-tuned
    assert not _bn(PASTE.format(bn="", freeze=LOOP.replace("base.layers", "base.layers[:-30]")))
    # frozen, then unfrozen for a fine-tuning phase
    thawed = LOOP + "\nbase.trainable = True"
    assert not _bn(PASTE.format(bn="", freeze=thawed))
    # a backbone without BatchNorm layers
    vgg = PASTE.format(bn="", freeze=LOOP).replace("ResNet50", "VGG16")
    assert not _bn(vgg)


def test_a_keras_script_without_a_fastai_learner_is_not_walked_for_batchnorm_handling(
    monkeypatch,
):
    # _handles_bn walks the whole tree; most Keras scripts have no fastai learner to compare
    from graftlab.doctor.script import _rules, bn_compare, parse

    walked = []
    monkeypatch.setattr(bn_compare, "_handles_bn", lambda tree: walked.append(tree) or False)
    src = PASTE.format(bn="", freeze=LOOP).replace("learner = cnn_learner", "learner = other")
    bn_compare.check_frozen_bn_vs_fastai(_rules.Ctx.build(parse.load_source(src)))
    assert walked == []
    ctx = _rules.Ctx.build(parse.load_source(PASTE.format(bn="", freeze=LOOP)))
    bn_compare.check_frozen_bn_vs_fastai(ctx)
    assert len(walked) == 1 and [f.code for f in ctx.findings] == ["GL133"]


def test_standalone_keras_2_is_left_to_gl127_not_said_twice():
    # under Keras 2 a frozen BatchNorm still uses batch statistics in fit() (GL127): GL133's
    # inference-mode comparison is TF 2's and contradicted it on the same backbone
    from graftlab.doctor.script import check_script

    tf2 = PASTE.format(bn="", freeze=LOOP)
    src = tf2.replace("from tensorflow import keras", "import keras")
    codes = [f.code for f in check_script(src, filename="post.py") if f.category == "batchnorm"]
    assert codes == ["GL127"]
    src = tf2
    codes = [f.code for f in check_script(src, filename="post.py") if f.category == "batchnorm"]
    assert codes == ["GL133"]
