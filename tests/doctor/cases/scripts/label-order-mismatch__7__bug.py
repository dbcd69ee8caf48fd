import os

import numpy as np
from tensorflow import keras


class FolderData:
    def __init__(self, root, size=(224, 224)):
        self.root = root
        self.size = size
        self.names = list({d for d in os.listdir(os.path.join(root, "train"))})  # expect: label-order-mismatch
        self.idx_to_name = dict(enumerate(self.names))

    def train(self):
        return keras.utils.image_dataset_from_directory(os.path.join(self.root, "train"),
                                                        image_size=self.size)

    def name_of(self, model, path):
        img = keras.utils.img_to_array(keras.utils.load_img(path, target_size=self.size))
        return self.idx_to_name[int(np.argmax(model.predict(img[None])))]  # expect: label-order-mismatch


data = FolderData("flowers")
model = keras.models.load_model("flowers.keras")
print(data.name_of(model, "rose.jpg"))
