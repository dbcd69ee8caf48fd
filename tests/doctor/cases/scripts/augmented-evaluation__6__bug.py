import albumentations as A
import numpy as np
from keras.utils import Sequence

train_aug = A.Compose([A.HorizontalFlip(p=0.5), A.RandomRotate90(), A.ShiftScaleRotate()])  # expect: augmented-evaluation


class Generator(Sequence):
    def __init__(self, X, y, batch_size=32, transform=None):
        self.X, self.y, self.batch_size, self.transform = X, y, batch_size, transform

    def __len__(self):
        return len(self.X) // self.batch_size

    def __getitem__(self, i):
        xb = self.X[i * self.batch_size : (i + 1) * self.batch_size]
        yb = self.y[i * self.batch_size : (i + 1) * self.batch_size]
        if self.transform is not None:
            xb = np.stack([self.transform(image=x)["image"] for x in xb])
        return xb, yb


train_gen = Generator(X_train, y_train, transform=train_aug)
valid_gen = Generator(X_valid, y_valid, transform=train_aug)  # expect: augmented-evaluation
model.fit(train_gen, validation_data=valid_gen, epochs=10)
