import numpy as np
import pandas as pd
from tensorflow.keras.applications import Xception
from tensorflow.keras.applications.xception import preprocess_input
from tensorflow.keras.layers import Dense, GlobalAveragePooling2D
from tensorflow.keras.models import Sequential
from tensorflow.keras.preprocessing.image import img_to_array, load_img


def load_images(frame):
    return preprocess_input(np.stack([img_to_array(load_img(p, target_size=(299, 299))) for p in frame.path]))


train_df = pd.read_csv("plants/train.csv")
val_df = pd.read_csv("plants/val.csv")
x_train, x_val = load_images(train_df), load_images(val_df)
species = sorted(train_df.species.unique())  # one class list for both splits
y_train = pd.get_dummies(pd.Categorical(train_df.species, categories=species)).values
y_val = pd.get_dummies(pd.Categorical(val_df.species, categories=species)).values

base = Xception(include_top=False, weights="imagenet", input_shape=(299, 299, 3))
base.trainable = False
model = Sequential([base, GlobalAveragePooling2D(), Dense(y_train.shape[1], activation="softmax")])
model.compile(optimizer="adam", loss="categorical_crossentropy", metrics=["accuracy"])
model.fit(x_train, y_train, validation_data=(x_val, y_val), epochs=10, batch_size=32)
