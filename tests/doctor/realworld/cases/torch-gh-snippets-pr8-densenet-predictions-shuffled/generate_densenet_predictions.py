# -*- coding: utf-8 -*-
import argparse
import numpy as np
import tables
import torch
from tqdm.autonotebook import tqdm
from torch.utils.data import DataLoader
from torchvision.models import DenseNet
from albumentations import *
from albumentations.pytorch import ToTensor


class PatchTable(object):
    def __init__(self, fname, img_transform=None):
        self.fname = fname
        self.img_transform = img_transform
        with tables.open_file(self.fname, 'r') as db:
            self.nitems = db.root.imgs.shape[0]

    def __getitem__(self, index):
        with tables.open_file(self.fname, 'r') as db:
            img = db.root.imgs[index, :, :, :]
            label = db.root.labels[index]
        out = img
        if self.img_transform:
            out = self.img_transform(image=img)['image']
        return out, label, img

    def __len__(self):
        return self.nitems


if __name__ == '__main__':
    ap = argparse.ArgumentParser()
    ap.add_argument('pytable_path', type=str)
    ap.add_argument('model_checkpoint', type=str)
    ap.add_argument('--patch_size', type=int, default=224)
    ap.add_argument('--gpuid', type=int, default=0)
    args = ap.parse_args()

    device = torch.device(f'cuda:{args.gpuid}' if torch.cuda.is_available() else 'cpu')
    tfm = Compose([CenterCrop(args.patch_size, args.patch_size), ToTensor()])

    dset = PatchTable(args.pytable_path, tfm)
    dloader = DataLoader(dset, batch_size=1, shuffle=True, num_workers=8, pin_memory=True)

    ck = torch.load(args.model_checkpoint)
    model = DenseNet(growth_rate=ck['growth_rate'], block_config=ck['block_config'],
                     num_init_features=ck['num_init_features'], bn_size=ck['bn_size'],
                     drop_rate=ck['drop_rate'], num_classes=ck['num_classes']).to(device)
    model.load_state_dict(ck['model_dict'])
    model.eval()

    predictions = []
    for img, _, _ in tqdm(dloader):
        pred = model(img.to(device))
        predictions.extend(np.argmax(pred.detach().cpu().numpy(), axis=1).flatten())

    with tables.open_file(args.pytable_path, 'a') as f:
        if 'predictions' in f.root:
            f.root.predictions.remove()
        f.create_carray(f.root, 'predictions', tables.UInt8Atom(), np.array(predictions).shape)
        f.root.predictions[:] = predictions
        print(f'Predictions have been saved to {args.pytable_path}')
