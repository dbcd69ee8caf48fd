#!/usr/bin/env python
"""
Train a custom classifier on top of the pretrained backbone.

Usage:
  train_classifier.py  --path_in=PATH
                       [--num_layers_to_finetune=NUM]
                       [--use_gpu]
                       [--path_out=PATH]
  train_classifier.py  (-h | --help)

Options:
  --path_in=PATH                 Dataset folder (videos_train/ and videos_valid/ with one folder per class).
  --num_layers_to_finetune=NUM   How many backbone layers to train besides the head [default: 9].
  --path_out=PATH                Output folder; defaults to path_in.
"""
import json
import os

import torch.utils.data
from docopt import docopt

from realtimenet import feature_extractors
from realtimenet.downstream_tasks.nn_utils import LogisticRegression, Pipe
from realtimenet.finetuning import extract_features, generate_data_loader, set_internal_padding_false
from realtimenet.finetuning import training_loops


def rename_key(key):
    for old, new in [('feature_extractor', 'cnn'), ('feature_converter.', '')]:
        if key.startswith(old):
            key = key.replace(old, new)
    return key


if __name__ == "__main__":
    args = docopt(__doc__)
    path_in = args['--path_in']
    path_out = args['--path_out'] or path_in
    os.makedirs(path_out, exist_ok=True)
    use_gpu = args['--use_gpu']
    n_finetune = int(args['--num_layers_to_finetune'])

    backbone = feature_extractors.StridedInflatedEfficientNet()
    backbone.apply(set_internal_padding_false)
    backbone.load_state_dict(torch.load('resources/backbone/strided_inflated_efficientnet.ckpt'))
    backbone.eval()

    if n_finetune > 0:
        num_timesteps = backbone.num_required_frames_per_layer.get(-n_finetune)
        if not num_timesteps:
            raise IndexError(f'num_layers_to_finetune must be between 0 and '
                             f'{len(backbone.num_required_frames_per_layer) - 1}')
    else:
        num_timesteps = 1
    min_frames = backbone.num_required_frames_per_layer[0]

    # split the backbone: the last layers are trained together with the head
    if n_finetune > 0:
        trainable_layers = backbone.cnn[-n_finetune:]
        backbone.cnn = backbone.cnn[:-n_finetune]

    extract_features(path_in, backbone, n_finetune, use_gpu, minimum_frames=min_frames)

    classes = sorted(c for c in os.listdir(os.path.join(path_in, "videos_train")) if not c.startswith('.'))
    class_to_idx = {c: i for i, c in enumerate(classes)}

    train_loader = generate_data_loader(os.path.join(path_in, f"features_train_{n_finetune}"),
                                        classes, class_to_idx, num_timesteps=num_timesteps)
    valid_loader = generate_data_loader(os.path.join(path_in, f"features_valid_{n_finetune}"),
                                        classes, class_to_idx, num_timesteps=None, batch_size=1,
                                        shuffle=False)

    head = LogisticRegression(num_in=backbone.feature_dim, num_out=len(classes))
    if n_finetune > 0:
        net = Pipe(trainable_layers, head)
    else:
        net = head
    net.train()
    if use_gpu:
        net = net.cuda()

    schedule = {0: 1e-4, 30: 1e-5}
    best_state = training_loops(net, train_loader, valid_loader, use_gpu, 60, schedule, classes, path_out)

    if isinstance(net, Pipe):
        best_state = {rename_key(k): v for k, v in best_state.items()}
    torch.save(best_state, os.path.join(path_out, "classifier.checkpoint"))
    json.dump(class_to_idx, open(os.path.join(path_out, "label2int.json"), "w"))
