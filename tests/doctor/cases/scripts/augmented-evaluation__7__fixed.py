import pandas as pd
import torchvision.transforms as T
from PIL import Image
from torch.utils.data import DataLoader, Dataset

train_tf = T.Compose([T.RandomResizedCrop(224), T.RandomHorizontalFlip(), T.ToTensor()])
valid_tf = T.Compose([T.Resize(256), T.CenterCrop(224), T.ToTensor()])


class LeafDataset(Dataset):
    def __init__(self, df, transform):
        self.df, self.transform = df, transform

    def __len__(self):
        return len(self.df)

    def __getitem__(self, i):
        img = Image.open(self.df.path[i]).convert("RGB")
        return self.transform(img), self.df.label[i]


train_ds = LeafDataset(pd.read_csv("train.csv"), train_tf)
valid_ds = LeafDataset(pd.read_csv("valid.csv"), valid_tf)
train_dl = DataLoader(train_ds, batch_size=32, shuffle=True)
valid_dl = DataLoader(valid_ds, batch_size=32)
