# -*- coding: utf-8 -*-

"""Predict ages with a pretrained SSR-Net, for one image or every image in a folder.

Usage: python inference_images.py --image path/to/img_or_dir --graph path/to/model.pth
"""

import argparse
import os
import time

# os.environ["CUDA_VISIBLE_DEVICES"] = '0'

import cv2
import numpy as np
import torch
from torchvision import transforms as T

from SSR_models.SSR_Net_model import SSRNet

device = torch.device("cuda:0" if torch.cuda.is_available() else "cpu")


def predict_one(net, img_path, size=64):
    img = cv2.imread(img_path)
    t0 = time.time()
    img = T.Compose([
        T.ToPILImage(),
        T.Resize((size, size)),
        T.RandomHorizontalFlip(),
        T.ToTensor(),
        T.Normalize([0.485, 0.456, 0.406], [0.229, 0.224, 0.225])])(img)

    img = img[np.newaxis, ]
    img = img.to(device)
    age = net(img)
    return age, time.time() - t0


if __name__ == "__main__":
    target = "./samples/test/21.jpg"
    weights = "./pretrained_model/ssrnet_adam_mse_64x64.pth"

    parser = argparse.ArgumentParser()
    parser.add_argument("--image", help="an image file or a folder of images")
    parser.add_argument("--graph", help="model checkpoint to load")
    args = parser.parse_args()
    if args.image:
        target = args.image
    if args.graph:
        weights = args.graph

    net = SSRNet()
    ckpt = torch.load(weights)
    net.load_state_dict(ckpt['state_dict'])
    net = net.to(device)
    net.eval()

    if os.path.isdir(target):  # run over the whole folder
        ages = []
        for name in os.listdir(target):
            age, _ = predict_one(net, os.path.join(target, name))
            ages.append(age.tolist()[0])
            print("image: {}\tage: {}".format(name, age.tolist()[0]))
        import pandas as pd

        summary = pd.DataFrame(ages)
        print(summary.describe())
        print(summary[0].value_counts())
    elif os.path.isfile(target):
        age, secs = predict_one(net, target)
        print("age: {}  ({:.3f} s)".format(age[0], secs))
