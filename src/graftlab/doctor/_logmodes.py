"""Log checks that compare training mode with inference mode, and errors that name the head.

Training-mode numbers (the progress bar's accuracy) and inference-mode numbers (validation,
``evaluate()``) come from one model; when they part ways in a telling pattern the log names the
cause: BatchNorm statistics, validation inputs or labels that differ from training's, a loss
given probabilities instead of logits.
"""

from __future__ import annotations

import itertools
import math
import re

from graftlab.doctor import _checks as fixes
from graftlab.doctor._checks import REFS, make
from graftlab.doctor._logchance import infer_k
from graftlab.doctor._loggap import candidates, gap_finding
from graftlab.doctor._logparse import EpochRow, ParsedLog
from graftlab.doctor._logutil import MIN_RUN, TOL, _cites, _finite, _fmt, _phase_label
from graftlab.doctor.findings import Finding


def _one_class_on_validation_only(log: ParsedLog, broken: set[int]) -> list[Finding]:
    """GL427: validation accuracy identical to four decimals in every epoch (one class for
    every validation image) while training accuracy climbs 30 points above it."""
    for rows in log.phases():
        phase = rows[0].phase
        if phase in broken:
            continue
        val, train = _finite(rows, "val_accuracy"), _finite(rows, "train_accuracy")
        if len(val) < MIN_RUN or len(train) < MIN_RUN or len(val) != len(rows):
            continue
        value = val[0][1]
        if any(round(v, 4) != round(value, 4) for _, v in val):
            continue
        if max(v for _, v in train) < value + 0.3:
            continue
        broken.add(phase)
        k = log.num_classes
        share = f" = 1/{k}" if k and abs(value - 1 / k) <= TOL else ""
        return [
            make(
                "GL427",
                title=f"val_accuracy is {_fmt(value)}{share} in every epoch while training "
                f"accuracy climbs to {_fmt(max(v for _, v in train))}",
                evidence=_cites(rows, "train_accuracy", "val_accuracy", "val_loss")
                + "\ninferred: one class for every validation image is read as validation "
                "inputs that differ from training inputs",
                explanation=(
                    "An accuracy that does not move by a single image is one class predicted "
                    "for every validation image, while the same model tells the training images "
                    "apart better every epoch. The validation inputs carry no information for "
                    "it: they are preprocessed differently from the training inputs (rescaled "
                    "by 1/255 where training was not, or the reverse; another preprocess_input; "
                    "another size), so they all look alike to the network. Less often: "
                    "BatchNorm moving statistics that do not fit the data."
                    + (
                        " In a hand-written PyTorch loop, check model.eval() first: a model "
                        "evaluated in training mode normalises each (small) validation batch "
                        "by its own statistics, which at batch size 1 erases what tells the "
                        "images apart."
                        if _mode_causes(log)
                        else ""
                    )
                ),
                fix=(
                    "# One preprocessing for every split:\n"
                    "datagen = ImageDataGenerator(preprocessing_function=preprocess_input)\n"
                    "train_gen = datagen.flow_from_directory(train_dir, ...)\n"
                    "val_gen = datagen.flow_from_directory(val_dir, shuffle=False, ...)"
                ),
                references=[REFS["keras-ft"]],
                causes=_mode_causes(log),
            )
        ]
    return []


def _majority_share(
    log: ParsedLog, explained: set[tuple[int, str]], broken: set[int]
) -> list[Finding]:
    """GL403 later in training: training and validation accuracy equal to each other and
    unchanged to four decimals for MIN_RUN epochs while the loss keeps falling."""
    for rows in log.phases():
        phase = rows[0].phase
        if phase in broken or (phase, "val_accuracy") in explained:
            continue
        both = [r for r in rows if "train_accuracy" in r.values and "val_accuracy" in r.values]
        best: list[EpochRow] = []
        run: list[EpochRow] = []
        for r in both:
            a, v = r.values["train_accuracy"], r.values["val_accuracy"]
            same = round(a, 4) == round(v, 4)
            if same and run and round(run[0].values["val_accuracy"], 4) == round(v, 4):
                run.append(r)
            else:
                run = [r] if same else []
            best = run if len(run) > len(best) else best
        if len(best) < MIN_RUN:
            continue
        value = best[0].values["val_accuracy"]
        losses = [r.values.get("train_loss") for r in best]
        if value >= 0.99 or None in losses or max(losses) - min(losses) < 0.01:
            continue
        broken.add(phase)
        return [
            make(
                "GL403",
                title=f"Training and validation accuracy both sit at exactly {_fmt(value)} while "
                "the loss falls: one class predicted for every image",
                evidence=_cites(best, "train_loss", "train_accuracy", "val_accuracy"),
                explanation=(
                    f"Two different sets scoring the same {_fmt(value)} to four decimals for "
                    f"{len(best)} epochs, while the loss still moves, is the share of one class "
                    "in both: the model predicts that class for every image, and with "
                    "imbalanced data that already scores the majority share. Accuracy says "
                    "nothing here; the loss falls because the predicted probabilities approach "
                    "the class frequencies."
                ),
                fix=fixes.fix_one_class(log.framework or "keras")
                + "\n# and report balanced accuracy or per-class recall, not accuracy",
                references=[REFS["imbalance"]],
            )
        ]
    return []


def _inference_at_chance(
    log: ParsedLog, explained: set[tuple[int, str]], broken: set[int]
) -> list[Finding]:
    """GL419: training accuracy climbs well above chance while validation accuracy stays at
    1/K (or under it, K printed) in every epoch of the phase: the model works only in training
    mode."""
    for rows in log.phases():
        phase = rows[0].phase
        if phase in broken or (phase, "val_accuracy") in explained:
            continue
        val, train = _finite(rows, "val_accuracy"), _finite(rows, "train_accuracy")
        if len(val) < 2 or len(train) < 2:
            continue
        k, k_source = infer_k(log)
        if k is None:
            mean = sum(v for _, v in val) / len(val)
            k = round(1 / mean) if mean > 0 else 0
            k_source = f"inferred: K = {k} from the validation accuracy itself"
            if not 2 <= k <= 20:
                continue
        chance = 1 / k
        if (found := _permuted_labels(log, rows, val, train, k, k_source)) is not None:
            broken.add(phase)
            return [found]
        tol = max(0.02, 0.2 * chance)
        if any(v > chance + tol for _, v in val):
            continue
        # Below chance counts too where K is printed: one class predicted for every image
        # scores that class's share, under 1/K for a minority class.
        below = any(v < chance - tol for _, v in val)
        if below and k_source.startswith("inferred: "):
            continue
        top = max(v for _, v in train)
        if top < chance + max(0.3, 0.5 * (1 - chance)):
            continue
        broken.add(phase)
        k_text = k_source if k_source.startswith("inferred: ") else f"K = {k}: {k_source}"
        symptom = (
            f"Training accuracy reaches {_fmt(top)} while validation accuracy stays at "
            + ("or below " if below else "")
            + (
                f"chance (1/{k} = {chance:.4f})"
                if log.num_classes == k
                else f"chance level (about 1/{k})"
            )
            + _phase_label(log, phase)
        )
        vloss = [v for _, v in _finite(rows, "val_loss")]
        order, reason = candidates(bool(_mode_causes(log)), vloss)
        evidence = (
            _cites(rows, "train_accuracy", "val_accuracy", "train_loss", "val_loss") + "\n" + k_text
        )
        return [gap_finding(symptom, evidence, order, reason, log.framework or "keras")]
    return []


_LIGHTNING = re.compile(r"\bv_num\b|lightning|LOCAL_RANK|GPU available:", re.I)


def _mode_causes(log: ParsedLog) -> list[str]:
    """In a hand-written PyTorch loop, the model left in training mode at evaluation (no
    model.eval(): BatchNorm normalises each validation batch by itself, Dropout stays on) is
    the likeliest reason inference scores below training; Keras and Lightning switch modes
    themselves."""
    plain_torch = log.framework == "torch" and not any(_LIGHTNING.search(ln) for ln in log.lines)
    return ["eval-mode-missing"] if plain_torch else []


def _permuted_labels(
    log: ParsedLog,
    rows: list[EpochRow],
    val: list[tuple[EpochRow, float]],
    train: list[tuple[EpochRow, float]],
    k: int,
    k_source: str,
) -> Finding | None:
    """GL425: validation accuracy falls BELOW chance while training accuracy climbs and the
    validation loss rises from the first epoch: the model learns a mapping that validation
    labels contradict (a class order that differs between the splits)."""
    if not k_source or k_source.startswith("inferred: ") or len(val) < 4:
        return None  # K from the validation accuracy itself cannot say it is below chance
    chance = 1 / k
    vloss = [v for _, v in _finite(rows, "val_loss")]
    if vloss:
        rising = len(vloss) >= 4 and all(b > a for a, b in itertools.pairwise(vloss))
    else:  # no validation loss printed: the accuracy itself must fall as training learns
        rising = val[-1][1] < val[0][1] and all(v < chance for _, v in val[1:])
    late = [v for _, v in val[len(val) // 2 :]]
    climbs = train[-1][1] - train[0][1] >= 0.2 and train[-1][1] >= chance + 0.3
    if not (rising and climbs and max(late) < chance and max(v for _, v in val) < chance + 0.1):
        return None
    return make(
        "GL425",
        title=f"Validation accuracy falls below chance ({_fmt(min(late))} < 1/{k}) while "
        f"training accuracy climbs to {_fmt(train[-1][1])}",
        evidence=_cites(rows, "train_accuracy", "val_accuracy", "val_loss")
        + f"\nK = {k}: {k_source}"
        + "\ninferred: below-chance accuracy is read as labels mapped differently in the splits",
        explanation=(
            "A model that learns nothing scores chance on validation; one that scores below "
            "chance, more so the more it learns, has learned a class mapping that the "
            "validation labels contradict: the same index means different classes in the two "
            "splits. flow_from_directory and ImageFolder number classes by sorting the folder "
            "names of each split, so folders named or spelled differently (or a class missing) "
            "in the validation directory shift the indices."
        ),
        fix=(
            "print(train_gen.class_indices, val_gen.class_indices)  # must be identical\n"
            "val_gen = val_datagen.flow_from_directory(val_dir, classes=sorted(train_gen."
            "class_indices, key=train_gen.class_indices.get), ...)"
        ),
        references=[REFS["keras-ft"]],
    )


def _evaluate_below_training(log: ParsedLog, broken: set[int]) -> list[Finding]:
    """GL421: evaluate() after fit scores below what training mode scored after ONE epoch,
    although training went on improving; the log has no per-epoch validation to compare."""
    phases = log.phases()
    if not phases or not log.evaluations or phases[-1][0].phase in broken:
        return []
    rows = phases[-1]
    if any("val_accuracy" in r.values or "val_loss" in r.values for r in rows):
        return []
    first, last = rows[0].values, rows[-1].values
    if not {"train_loss", "train_accuracy"} <= set(first) | set(last):
        return []
    a1, a2 = first.get("train_accuracy"), last.get("train_accuracy")
    l1 = first.get("train_loss")
    if a1 is None or a2 is None or l1 is None or a2 < a1 + 0.10:
        return []
    after = [e for e in log.evaluations if e[0] > rows[-1].line]
    low = [e for e in after if e[2] <= a1 + 0.005 and e[1] > l1]
    if not low:
        return []
    line, loss, acc = low[0]
    return [
        make(
            "GL421",
            title=f"evaluate() scores {acc:.4f} after fit reached {a2:.4f}, no better than the "
            f"{a1:.4f} of the first training epoch",
            evidence=_cites([rows[0], rows[-1]], "train_loss", "train_accuracy")
            + f"\n  line {line:>3} | evaluate: loss {_fmt(loss)}  acc {acc:.4f}"
            + "\ninferred: the evaluated images are taken to be like the training images",
            explanation=(
                "In training mode the model improved epoch after epoch; the same model in "
                "inference mode (evaluate/predict) scores worse than it did after the first "
                "epoch, with a higher loss. That is not overfitting: an overfitted model still "
                "keeps what the first epoch taught it. What differs between the two modes is "
                "BatchNormalization (batch statistics in training, moving averages in "
                "inference: with momentum 0.99 and few updates the moving mean and variance "
                "are still far from this data's) and Dropout. Also check that the evaluated "
                "images get the same preprocessing as the training images."
            ),
            fix=fixes.fix_batchnorm(log.framework or "keras")
            + "\n# or, with few training steps, a lower BatchNormalization momentum (e.g. 0.9)",
            references=[REFS["keras-ft"], REFS["bn"]],
            causes=_mode_causes(log),
        )
    ]


def _head_errors(log: ParsedLog, fw: str) -> list[Finding]:
    """GL426: the framework itself said the labels (or loaded weights) do not fit the head."""
    if not log.head_errors:
        return []
    line, text = log.head_errors[0]
    top = _imagenet_top(text)
    if top is not None:
        return [_kept_top(line, text, top)]
    return [
        make(
            "GL426",
            title="The labels do not fit the model's output layer: " + text[:90],
            evidence=f"  line {line:>4}  {text}",
            explanation=(
                "The error is raised where the loss (or load_state_dict) compares the labels "
                "with the model's outputs: a label index is at or above the number of output "
                "units (a two-class problem with one output unit under CrossEntropyLoss, a head "
                "sized for fewer classes than the data has, labels numbered from 1), or "
                "weights saved from a head of another size are loaded into this one."
            ),
            fix=(
                "# One output per class, sized from the data:\n"
                "num_classes = len(train_dataset.classes)\n"
                "model.fc = torch.nn.Linear(model.fc.in_features, num_classes)\n"
                "# two classes with ONE logit: BCEWithLogitsLoss on float 0/1 targets instead"
                if fw != "keras"
                else "# One unit per class: Dense(num_classes, activation='softmax') with\n"
                "# categorical_crossentropy (one-hot) or sparse_categorical_crossentropy (ints)."
            ),
            references=[REFS["ce"]],
        )
    ]


_SHAPE_WIDTH = re.compile(r"\((?:None|samples|\?|\d+), *(\d+)\)|shape:? *\(?(\d+)\b(?!\s*,)")


def _imagenet_top(text: str) -> int | None:
    """K when the message pairs an output of 1000 units (the ImageNet classes) with targets
    of K != 1000 classes."""
    widths = [int(a or b) for a, b in _SHAPE_WIDTH.findall(text)]
    others = [w for w in widths if w != 1000]
    return others[0] if 1000 in widths and others and 1 < others[0] < 1000 else None


def _kept_top(line: int, text: str, k: int) -> Finding:
    return make(
        "GL445",
        title=f"A 1000-unit output met {k}-class targets: the ImageNet classifier is still "
        "the model's top",
        evidence=f"  line {line:>4}  {text}\ninferred: 1000 output units are read as the "
        "ImageNet classifier of a pretrained backbone kept as the model's last layer",
        explanation=(
            f"The framework compared targets of {k} classes with an output layer of 1000 "
            "units: the pretrained model was used with its ImageNet top (include_top=True, or "
            "the whole torchvision model), whose 1000 classes cannot be trained into "
            f"{k} new ones by fitting on them."
        ),
        fix=(
            "# Cut the backbone below its top and train a new head:\n"
            "base = InceptionResNetV2(weights='imagenet', include_top=False, pooling='avg')\n"
            f"outputs = Dense({k}, activation='softmax')(base.output)\n"
            "# PyTorch: model.fc = nn.Linear(model.fc.in_features, num_classes)"
        ),
        references=[REFS["keras-ft"]],
    )


def _loss_floor(log: ParsedLog, fw: str, broken: set[int]) -> list[Finding]:
    """GL423/GL424: the accuracy is high but the cross-entropy never falls below
    ln(1 + (K-1)/e), the floor of a cross-entropy fed probabilities instead of logits."""
    for rows in log.phases():
        if rows[0].phase in broken:
            continue
        loss, acc = _finite(rows, "train_loss"), _finite(rows, "train_accuracy")
        if len(loss) < 3 or not acc:
            continue
        low = min(v for _, v in loss)
        top = max(v for _, v in acc)
        k = log.num_classes if log.num_classes and log.num_classes >= 2 else None
        if k is not None:
            floor = math.log(1 + (k - 1) / math.e)
            if not (top >= 0.6 and floor * 0.97 <= low <= math.log(k)):
                continue
            k_text = f"K = {k}: {log.num_classes_evidence}; floor ln(1 + {k - 1}/e) = {floor:.4f}"
        else:
            if not (top >= 0.75 and low >= 1.2):
                continue
            k_text = "inferred: K is not in the log; a cross-entropy of 1.2 or more at this "
            k_text += "accuracy is what probabilities fed to it give for 10 or so classes"
        tail = [v for _, v in loss[len(loss) // 2 :]]
        if max(tail) - min(tail) > 0.1 * low:
            continue  # still falling: not a floor
        keras = (log.framework or fw) == "keras"
        return [
            make(
                "GL424" if keras else "GL423",
                title=f"Accuracy reaches {_fmt(top)} but the loss never falls below "
                f"{_fmt(low)}: the loss is given probabilities, not logits",
                evidence=_cites(rows, "train_loss", "train_accuracy", "val_loss") + "\n" + k_text,
                explanation=(
                    "Cross-entropy on logits goes towards 0 as the model gets the images right. "
                    "Fed softmax probabilities instead (a model ending in softmax with "
                    "nn.CrossEntropyLoss, or Keras from_logits=True on a softmax output), it "
                    "applies softmax a second time: probabilities in [0, 1] become logits "
                    "that differ by at most 1, so the loss cannot fall below ln(1 + (K-1)/e) "
                    "(1.46 for 10 classes) and the gradients shrink."
                ),
                fix=(
                    "# Return raw logits from forward(); CrossEntropyLoss applies log-softmax:\n"
                    "return self.fc(x)            # not F.softmax(self.fc(x), dim=1)\n"
                    "probs = logits.softmax(dim=1)  # only where probabilities are needed"
                    if not keras
                    else "# A softmax output takes from_logits=False (the default):\n"
                    "model.compile(loss=keras.losses.CategoricalCrossentropy(), ...)"
                ),
                references=[REFS["ce"]],
            )
        ]
    return []


#: Words of a traceback frame or progress bar that put an error inside evaluation.
_EVALUATING = re.compile(
    r"\b(?:in (?:validat\w*|evaluat\w*|test\w*|predict\w*|infer\w*)\b|"
    r"^\s*(?:valid(?:ation|ating)?|val|test(?:ing)?|eval(?:uat(?:ion|ing))?|"
    r"predict(?:ion|ing)?)\b[^:|\n]{0,20}[:|])",
    re.I,
)


def _one_sample_batchnorm(log: ParsedLog, fw: str) -> list[Finding]:
    """GL434: PyTorch's BatchNorm refused a batch of one in training mode. In evaluation code
    that is a model never switched to eval(); in training, a last batch of one sample."""
    if not log.one_sample_bn:
        return []
    line, text = log.one_sample_bn[0]
    context = log.lines[max(0, line - 40) : line]
    where = next((ln.strip() for ln in reversed(context) if _EVALUATING.search(ln)), None)
    evidence = f"  line {line:>4}  {text}"
    if where:
        evidence += (
            f"\n  raised while evaluating: {where[:120]}"
            "\nlikely cause (inferred): the model is evaluated in training mode"
        )
    return [
        make(
            "GL434",
            title="BatchNorm ran in training mode on a batch of one sample"
            + (" during evaluation: model.eval() is missing" if where else ""),
            evidence=evidence,
            explanation=(
                "In training mode a BatchNorm layer normalises with the statistics of the batch "
                "itself, which for one sample per channel are undefined, so PyTorch stops. "
                + (
                    "It happened while evaluating: the model was never put in eval mode, where "
                    "BatchNorm uses its running statistics and any batch size works (and where "
                    "Dropout is off); even at larger batch sizes its predictions would depend "
                    "on the other images of the batch."
                    if where
                    else "In training this is a last batch of one image (dataset size % batch "
                    "size == 1): drop it, or evaluate in eval mode if this is evaluation code."
                )
            ),
            fix=(
                "model.eval()\nwith torch.no_grad():\n    for x, y in val_loader:\n"
                "        logits = model(x)\nmodel.train()  # before the next training epoch"
                if where
                else "train_loader = DataLoader(train_set, batch_size=32, shuffle=True, "
                "drop_last=True)"
            ),
            references=[REFS["bn"]],
            causes=["eval-mode-missing"] if where else [],
        )
    ]
