import os
import torch.utils.data as data
from PIL import Image
from torchvision import transforms


class CGILoader(data.Dataset):
    def __init__(self, root, file_list, new_size=256, crop_size=256, is_train=True):
        self.root = root
        self.names = [l.strip() for l in open(file_list)]
        ops = [transforms.Resize(new_size)]
        if is_train:
            ops += [transforms.RandomCrop(crop_size), transforms.RandomHorizontalFlip()]
        ops += [transforms.ToTensor()]
        self.transform = transforms.Compose(ops)

    def __getitem__(self, index):
        name = self.names[index]
        img = Image.open(os.path.join(self.root, 'input', name)).convert('RGB')
        refl = Image.open(os.path.join(self.root, 'reflectance', name)).convert('RGB')
        shad = Image.open(os.path.join(self.root, 'shading', name)).convert('RGB')
        return self.transform(img), self.transform(refl), self.transform(shad)

    def __len__(self):
        return len(self.names)
