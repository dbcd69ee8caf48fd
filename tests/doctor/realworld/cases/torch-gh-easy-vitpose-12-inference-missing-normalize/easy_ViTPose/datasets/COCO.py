import numpy as np
import torch
import torchvision.transforms as T
from torch.utils.data import Dataset


class COCODataset(Dataset):
    def __init__(self, root_path, data_version, is_train=True, image_width=192, image_height=256,
                 heatmap_sigma=3, color_rgb=True):
        self.root_path = root_path
        self.data_version = data_version
        self.is_train = is_train
        self.image_size = (image_width, image_height)
        self.heatmap_sigma = heatmap_sigma
        self.color_rgb = color_rgb
        self.samples = self._load_annotations()
        self.transform = T.Compose([
            T.ToTensor(),
            T.Normalize(mean=[0.485, 0.456, 0.406], std=[0.229, 0.224, 0.225]),
        ])

    def __len__(self):
        return len(self.samples)

    def __getitem__(self, index):
        image, joints, joints_vis = self._read_sample(self.samples[index])
        image, joints = self._affine_to_input(image, joints)
        image = self.transform(image)
        target, target_weight = self._make_heatmaps(joints, joints_vis)
        return image, target.astype(np.float32), target_weight.astype(np.float32), index
