#!/usr/bin/env python
"""
Train a custom classifier on top of the pretrained backbone.

Usage:
  train_classifier.py  --path_in=PATH
                       [--num_layers_to_finetune=NUM]
                       [--use_gpu]
                       [--path_out=PATH]
                       [--temporal_training]
                       [--resume]
  train_classifier.py  (-h | --help)

Options:
  --path_in=PATH                 Dataset folder (videos_train/ and videos_valid/ with one folder per class).
  --num_layers_to_finetune=NUM   How many backbone layers to train besides the head [default: 9].
  --path_out=PATH                Output folder; defaults to path_in/checkpoints.
  --temporal_training            The dataset carries temporal annotations (tags_train/, tags_valid/).
  --resume                       Start from the last saved checkpoint instead of the pretrained weights.
"""
import json
import os
import sys

import torch.utils.data
from docopt import docopt

from sense import feature_extractors
from sense.downstream_tasks.nn_utils import LogisticRegression, Pipe
from sense.finetuning import extract_features, generate_data_loader, set_internal_padding_false
from sense.finetuning import training_loops
from sense.utils import clean_pipe_state_dict_key

BACKBONE_CKPT = 'resources/backbone/strided_inflated_efficientnet.ckpt'


if __name__ == "__main__":
    args = docopt(__doc__)
    path_in = args['--path_in']
    path_out = args['--path_out'] or os.path.join(path_in, "checkpoints")
    os.makedirs(path_out, exist_ok=True)
    use_gpu = args['--use_gpu']
    n_finetune = int(args['--num_layers_to_finetune'])
    temporal = args['--temporal_training']
    resume = args['--resume']

    outputs = ["last_classifier.checkpoint", "best_classifier.checkpoint", "label2int.json"]
    if any(os.path.exists(os.path.join(path_out, f)) for f in outputs):
        answer = input("path_out already holds results that will be overwritten. Continue? [y/n] ")
        if answer.lower() != "y":
            sys.exit()

    backbone = feature_extractors.StridedInflatedEfficientNet()

    if resume:
        checkpoint_classifier = torch.load(os.path.join(path_out, 'last_classifier.checkpoint'))
        weights = torch.load(BACKBONE_CKPT)
        # layers that were fine-tuned last time are taken from the saved checkpoint
        for key in set(weights) & set(checkpoint_classifier):
            weights[key] = checkpoint_classifier.pop(key)
    else:
        weights = torch.load(BACKBONE_CKPT)

    backbone.load_state_dict(weights)
    backbone.eval()

    if n_finetune > 0:
        num_timesteps = backbone.num_required_frames_per_layer.get(-n_finetune)
        if not num_timesteps:
            raise IndexError(f'num_layers_to_finetune must be between 0 and '
                             f'{len(backbone.num_required_frames_per_layer) - 1}')
    else:
        num_timesteps = 1

    # split the backbone: the last layers are trained together with the head
    if n_finetune > 0:
        trainable_layers = backbone.cnn[-n_finetune:]
        backbone.cnn = backbone.cnn[:-n_finetune]

    extract_features(path_in, backbone, n_finetune, use_gpu, num_timesteps=num_timesteps)

    classes = [c for c in os.listdir(os.path.join(path_in, "videos_train")) if not c.startswith('.')]
    count_classes = ['counting_background']
    for c in classes:
        count_classes += [f'{c}_position_1', f'{c}_position_2']
    class_to_idx = {c: i for i, c in enumerate(classes)}
    count_to_idx = {c: i for i, c in enumerate(count_classes)}
    stride = backbone.num_required_frames_per_layer_padding[0]

    train_loader = generate_data_loader(path_in, f"features_train_{n_finetune}", "tags_train",
                                        classes, class_to_idx, count_to_idx, num_timesteps=num_timesteps,
                                        stride=stride, temporal_annotation_only=temporal)
    valid_loader = generate_data_loader(path_in, f"features_valid_{n_finetune}", "tags_valid",
                                        classes, class_to_idx, count_to_idx, num_timesteps=None,
                                        batch_size=1, shuffle=False, stride=stride,
                                        temporal_annotation_only=temporal)

    n_out = len(count_classes) if temporal else len(classes)
    head = LogisticRegression(num_in=backbone.feature_dim, num_out=n_out, use_softmax=False)

    if n_finetune > 0:
        trainable_layers.apply(set_internal_padding_false)
        net = Pipe(trainable_layers, head)
    else:
        net = head
    net.train()
    if use_gpu:
        net = net.cuda()

    schedule = {0: 1e-4, 30: 1e-5}
    best_state = training_loops(net, train_loader, valid_loader, use_gpu, 60, schedule, classes, path_out,
                                temporal_annotation_training=temporal)

    if isinstance(net, Pipe):
        best_state = {clean_pipe_state_dict_key(k): v for k, v in best_state.items()}
    torch.save(best_state, os.path.join(path_out, "best_classifier.checkpoint"))
    json.dump(count_to_idx if temporal else class_to_idx, open(os.path.join(path_out, "label2int.json"), "w"))
