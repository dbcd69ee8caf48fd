"""What each pretrained family expects, and the words and links the findings use.

Facts here come from the Keras Applications and torchvision/timm documentation; a rule never
hard-codes a backbone fact itself.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

#: Pixel preprocessing conventions of ``keras.applications.<module>.preprocess_input``.
MODES: dict[str, str] = {
    "caffe": "BGR channel order with the ImageNet channel means subtracted from 0..255 pixels "
    "(no scaling)",
    "tf": "pixels scaled to [-1, 1] (x / 127.5 - 1)",
    "torch": "pixels scaled to [0, 1], then normalised with the ImageNet mean and std",
    # Describes pixels, not a model: a model that expects them (EfficientNet, ConvNeXt) rescales
    # and normalises inside itself; any other model fed them sees unscaled input.
    "raw": "raw 0..255 RGB pixels (what models that rescale inside themselves, such as "
    "EfficientNet and ConvNeXt, expect; no other)",
    "unit": "pixels scaled to [0, 1] (x / 255)",
    "double": "two scalings one after the other",
}

#: ``keras.applications.<module>.preprocess_input`` → mode.
PREPROCESS_MODULES: dict[str, str] = {
    "vgg16": "caffe",
    "vgg19": "caffe",
    "resnet": "caffe",
    "resnet50": "caffe",
    "imagenet_utils": "caffe",
    "resnet_v2": "tf",
    "inception_v3": "tf",
    "inception_resnet_v2": "tf",
    "xception": "tf",
    "mobilenet": "tf",
    "mobilenet_v2": "tf",
    "nasnet": "tf",
    "densenet": "torch",
    "efficientnet": "raw",
    "efficientnet_v2": "raw",
    "mobilenet_v3": "raw",
    "convnext": "raw",
    "regnet": "raw",
    "resnet_rs": "raw",
}


@dataclass(frozen=True)
class KerasApp:
    """One ``keras.applications`` constructor."""

    name: str
    module: str  # where its preprocess_input lives
    size: int  # native input side
    has_bn: bool  # contains BatchNormalization layers

    @property
    def mode(self) -> str:
        return PREPROCESS_MODULES[self.module]


def _apps() -> dict[str, KerasApp]:
    table = [
        ("VGG16", "vgg16", 224, False),
        ("VGG19", "vgg19", 224, False),
        ("ResNet50", "resnet50", 224, True),
        ("ResNet101", "resnet", 224, True),
        ("ResNet152", "resnet", 224, True),
        ("ResNet50V2", "resnet_v2", 224, True),
        ("ResNet101V2", "resnet_v2", 224, True),
        ("ResNet152V2", "resnet_v2", 224, True),
        ("InceptionV3", "inception_v3", 299, True),
        ("InceptionResNetV2", "inception_resnet_v2", 299, True),
        ("Xception", "xception", 299, True),
        ("MobileNet", "mobilenet", 224, True),
        ("MobileNetV2", "mobilenet_v2", 224, True),
        ("MobileNetV3Small", "mobilenet_v3", 224, True),
        ("MobileNetV3Large", "mobilenet_v3", 224, True),
        ("DenseNet121", "densenet", 224, True),
        ("DenseNet169", "densenet", 224, True),
        ("DenseNet201", "densenet", 224, True),
        ("NASNetMobile", "nasnet", 224, True),
        ("NASNetLarge", "nasnet", 331, True),
    ]
    for i, size in enumerate((224, 240, 260, 300, 380, 456, 528, 600)):
        table.append((f"EfficientNetB{i}", "efficientnet", size, True))
    for suffix, size in (("B0", 224), ("B1", 240), ("B2", 260), ("B3", 300), ("S", 384)):
        table.append((f"EfficientNetV2{suffix}", "efficientnet_v2", size, True))
    table += [("EfficientNetV2M", "efficientnet_v2", 480, True)]
    table += [("EfficientNetV2L", "efficientnet_v2", 480, True)]
    for size_name in ("Tiny", "Small", "Base", "Large", "XLarge"):
        table.append((f"ConvNeXt{size_name}", "convnext", 224, False))
    return {name: KerasApp(name, module, size, bn) for name, module, size, bn in table}


KERAS_APPS: dict[str, KerasApp] = _apps()

#: ImageDataGenerator arguments that make it augment (random per image).
KERAS_AUG_KWARGS = frozenset(
    {
        "rotation_range",
        "width_shift_range",
        "height_shift_range",
        "shear_range",
        "zoom_range",
        "horizontal_flip",
        "vertical_flip",
        "brightness_range",
        "channel_shift_range",
    }
)

#: Keras preprocessing layers that augment (active only in training).
KERAS_AUG_LAYERS = frozenset(
    {
        "RandomFlip",
        "RandomRotation",
        "RandomZoom",
        "RandomTranslation",
        "RandomContrast",
        "RandomCrop",
        "RandomBrightness",
    }
)

#: torchvision transforms that are random.
TORCH_RANDOM_TRANSFORMS = frozenset(
    {
        "RandomResizedCrop",
        "RandomCrop",
        "RandomHorizontalFlip",
        "RandomVerticalFlip",
        "RandomRotation",
        "RandomAffine",
        "RandomPerspective",
        "ColorJitter",
        "RandomGrayscale",
        "RandomErasing",
        "RandAugment",
        "AutoAugment",
        "TrivialAugmentWide",
        "AugMix",
        "RandomApply",
        "RandomChoice",
        "RandomInvert",
        "RandomPosterize",
        "RandomSolarize",
        "RandomAdjustSharpness",
        "RandomAutocontrast",
        "RandomEqualize",
        "GaussianBlur",
        # albumentations
        "HorizontalFlip",
        "VerticalFlip",
        "Flip",
        "RandomRotate90",
        "Rotate",
        "ShiftScaleRotate",
        "RandomBrightnessContrast",
        "HueSaturationValue",
        "RGBShift",
        "CoarseDropout",
        "Cutout",
        "GaussNoise",
        "MotionBlur",
        "RandomGamma",
        "ElasticTransform",
        "GridDistortion",
        "OpticalDistortion",
        "RandomSizedCrop",
        "Transpose",
        "RandomScale",
        "Affine",
        "OneOf",
    }
)

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)

_TV_FAMILIES = re.compile(
    r"^(resnet\d+|resnext\w+|wide_resnet\w+|vgg\d+(_bn)?|alexnet|densenet\d+|googlenet|"
    r"inception_v3|mobilenet_v[23]\w*|efficientnet_(b\d|v2_[sml])|convnext_\w+|regnet_\w+|"
    r"shufflenet\w+|squeezenet\w+|mnasnet\w+|vit_\w+|swin_\w+|maxvit_t)$"
)
_TV_SIZES = {
    "inception_v3": 299,
    "efficientnet_b1": 240,
    "efficientnet_b2": 288,
    "efficientnet_b3": 300,
    "efficientnet_b4": 380,
    "efficientnet_b5": 456,
    "efficientnet_b6": 528,
    "efficientnet_b7": 600,
    "efficientnet_v2_s": 384,
    "efficientnet_v2_m": 480,
    "efficientnet_v2_l": 480,
}


#: Width of the features torchvision classifiers read (the head's in_features).
_TV_FEATURES = [
    (r"resnet(18|34)$", 512),
    (r"(resnet(50|101|152)|resnext\w+|wide_resnet\w+|inception_v3|googlenet)$", 2048),
    (r"googlenet$", 1024),
    (r"densenet121$", 1024),
    (r"densenet169$", 1664),
    (r"densenet201$", 1920),
    (r"densenet161$", 2208),
    (r"(vgg\d+(_bn)?|alexnet)$", 4096),
    (r"(mobilenet_v2|efficientnet_b0|efficientnet_b1)$", 1280),
    (r"efficientnet_b2$", 1408),
    (r"efficientnet_b3$", 1536),
    (r"efficientnet_b4$", 1792),
    (r"mobilenet_v3_large$", 1280),
    (r"mobilenet_v3_small$", 1024),
    (r"vit_b_(16|32)$", 768),
    (r"vit_l_(16|32)$", 1024),
    (r"convnext_tiny$|convnext_small$", 768),
    (r"convnext_base$", 1024),
]


#: Width of the input of the whole ``classifier`` Sequential where it is more than the last
#: Linear (replacing ``vgg.classifier`` starts from the flattened 512x7x7 features).
_TV_WHOLE_CLASSIFIER = [
    (r"vgg\d+(_bn)?$", 25088),
    (r"alexnet$", 9216),
    (r"mobilenet_v3_large$", 960),
    (r"mobilenet_v3_small$", 576),
]


def torchvision_classifier_input(name: str) -> int | None:
    """The in_features a replacement of the whole ``classifier`` attribute starts from, where
    it differs from :func:`torchvision_features`; None otherwise."""
    return next((w for pattern, w in _TV_WHOLE_CLASSIFIER if re.match(pattern, name)), None)


#: The attribute that holds a torchvision family's classifier (what forward() calls).
_TV_HEAD_ATTR = [
    (r"(resnet|resnext|wide_resnet|inception|googlenet|shufflenet|regnet)", "fc"),
    (r"(vgg|alexnet|densenet|mobilenet|efficientnet|convnext|mnasnet|squeezenet)", "classifier"),
    (r"swin_", "head"),
]


def torchvision_head_attr(name: str) -> str | None:
    """``fc`` for ResNet, ``classifier`` for VGG/DenseNet/MobileNet ..., ``heads``/``head``
    for ViT/Swin; None when the family is not known."""
    if name.startswith("vit_"):
        return "heads"
    return next((attr for pattern, attr in _TV_HEAD_ATTR if re.match(pattern, name)), None)


def torchvision_features(name: str) -> int | None:
    """in_features of the final Linear of a torchvision classifier, or None if unknown."""
    return next((n for pattern, n in _TV_FEATURES if re.match(pattern, name)), None)


def torchvision_size(name: str) -> int | None:
    """Native input side of a ``torchvision.models`` constructor, or None if not one."""
    if not _TV_FAMILIES.match(name):
        return None
    return _TV_SIZES.get(name, 224)


def timm_size(name: str) -> int | None:
    """Input side written in a timm model name (``vit_base_patch16_384``), else None."""
    m = re.search(r"_(\d{3})(?:\.|$|_)", name)
    return int(m.group(1)) if m and 96 <= int(m.group(1)) <= 1024 else None


#: Links the findings cite.
REFS = {
    "keras_tl": "https://keras.io/guides/transfer_learning/",
    "keras_apps": "https://keras.io/api/applications/",
    "keras_losses": "https://keras.io/api/losses/probabilistic_losses/",
    "keras_metrics": "https://keras.io/api/metrics/accuracy_metrics/",
    "keras_compile": "https://keras.io/api/models/model_training_apis/#compile-method",
    "keras_checkpoint": "https://keras.io/api/callbacks/model_checkpoint/",
    "keras_bn": "https://keras.io/api/layers/normalization_layers/batch_normalization/",
    "keras_idfd": "https://keras.io/api/data_loading/image/",
    "keras_idg": "https://www.tensorflow.org/api_docs/python/tf/keras/preprocessing/image/"
    "ImageDataGenerator",
    "keras_blog": "https://blog.keras.io/building-powerful-image-classification-models-using-"
    "very-little-data.html",
    "torch_ce": "https://pytorch.org/docs/stable/generated/torch.nn.CrossEntropyLoss.html",
    "torch_bce": "https://pytorch.org/docs/stable/generated/torch.nn.BCEWithLogitsLoss.html",
    "torch_nll": "https://pytorch.org/docs/stable/generated/torch.nn.NLLLoss.html",
    "torch_eval": "https://pytorch.org/docs/stable/generated/torch.nn.Module.html"
    "#torch.nn.Module.eval",
    "torch_nograd": "https://pytorch.org/docs/stable/generated/torch.no_grad.html",
    "torch_bn": "https://pytorch.org/docs/stable/generated/torch.nn.BatchNorm2d.html",
    "torch_sched": "https://pytorch.org/docs/stable/optim.html#how-to-adjust-learning-rate",
    "torch_loader": "https://pytorch.org/docs/stable/data.html#torch.utils.data.DataLoader",
    "torch_optim": "https://pytorch.org/docs/stable/optim.html#per-parameter-options",
    "torch_load": "https://pytorch.org/docs/stable/generated/torch.nn.Module.html"
    "#torch.nn.Module.load_state_dict",
    "tv_models": "https://pytorch.org/vision/stable/models.html",
    "tv_tutorial": "https://pytorch.org/tutorials/beginner/transfer_learning_tutorial.html",
    "tv_imagefolder": "https://pytorch.org/vision/stable/generated/"
    "torchvision.datasets.ImageFolder.html",
    "sk_label_encoder": "https://scikit-learn.org/stable/modules/generated/"
    "sklearn.preprocessing.LabelEncoder.html",
    "timm_data": "https://huggingface.co/docs/timm/reference/data",
    "lpft": "https://arxiv.org/abs/2202.10054",
    "yosinski": "https://arxiv.org/abs/1411.1792",
    "ulmfit": "https://arxiv.org/abs/1801.06146",
    "fastai_learner": "https://docs.fast.ai/vision.learner.html",
}

_ROLE_WORDS = {"val": "validation", "test": "test", "predict": "prediction", "train": "training"}


def say(role: str | None) -> str:
    """The word for a data role in messages: ``val`` → ``validation``."""
    return _ROLE_WORDS.get(role or "", role or "evaluation")


#: Channel means of the datasets whose statistics people paste (on [0, 1] pixels).
DATASET_MEANS: dict[str, tuple[float, ...]] = {
    "ImageNet": IMAGENET_MEAN,
    "CIFAR-10": (0.4914, 0.4822, 0.4465),
    "CIFAR-100": (0.5071, 0.4865, 0.4409),
}
#: Their channel standard deviations (both values in circulation for CIFAR-10).
DATASET_STDS: dict[str, tuple[float, ...]] = {
    "ImageNet": IMAGENET_STD,
    "CIFAR-10": (0.2470, 0.2435, 0.2616),
    "CIFAR-10 (per-image)": (0.2023, 0.1994, 0.2010),
    "CIFAR-100": (0.2673, 0.2564, 0.2762),
}
#: ImageNet means on the 0..255 scale in BGR order, as Caffe-converted weights expect them.
CAFFE_MEAN_BGR = (103.939, 116.779, 123.68)

#: Models that normalise their input inside themselves (a Normalize before them is a second
#: one): torchvision's detection models (GeneralizedRCNNTransform, SSD's transform) and the
#: ``robustness`` library's models (an InputNormalize layer with the dataset's mean/std).
_NORMALISE_INSIDE = re.compile(
    r"^(fasterrcnn\w*|maskrcnn\w*|keypointrcnn\w*|retinanet\w*|fcos\w*|ssd300\w*|ssdlite\w*|"
    r"make_and_restore_model)$"
)


def normalises_inside(name: str) -> bool:
    """Whether the model a constructor of this name returns normalises its own input."""
    return bool(_NORMALISE_INSIDE.match(name))


#: timm models whose pretrained weights were trained on inputs normalised with mean = std =
#: (0.5, 0.5, 0.5) (timm's ``IMAGENET_INCEPTION_MEAN/STD``, in their ``pretrained_cfg``):
#: Google's ViT weights (augreg, the original in21k ports), BEiT, MLP-Mixer, the ports of
#: TensorFlow's Inception v4 / Inception-ResNet v2 / adversarial Inceptions and the legacy
#: Xception. A tag other than those weights' (``.dino``, ``.mae``, ``.clip``) has other
#: statistics and is not matched.
_HALF_STATS_TIMM = re.compile(
    r"^(?:vit_(?:tiny|small|base|large|huge|giant)_patch\d{1,2}_(?:224|384)(?:_in21k)?"
    r"(?:\.(?:augreg\w*|orig_in21k\w*))?|"
    r"(?:beit_\w+?|mixer_[bl]16_224|inception_v4|inception_resnet_v2|ens_adv_inception_resnet_v2|"
    r"adv_inception_v3|tf_inception_v3|legacy_xception|xception)(?:\.\w+)?)$"
)


def timm_half_stats(name: str) -> bool:
    """Whether a timm model name's pretrained weights expect mean = std = 0.5 inputs."""
    return bool(_HALF_STATS_TIMM.match(name))
