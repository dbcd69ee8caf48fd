import numpy as np
import pandas as pd
from tensorflow.keras.applications.resnet50 import ResNet50, preprocess_input
from tensorflow.keras.layers import Dense, GlobalAveragePooling2D
from tensorflow.keras.models import Model
from tensorflow.keras.preprocessing.image import ImageDataGenerator

train_df = pd.read_csv("train.csv")
test_df = pd.read_csv("sample_submission.csv")
datagen = ImageDataGenerator(preprocessing_function=preprocess_input)
train_gen = datagen.flow_from_dataframe(train_df, directory="train/", x_col="id", y_col="breed",
                                        target_size=(224, 224), batch_size=32)
test_gen = datagen.flow_from_dataframe(test_df, directory="test/", x_col="id", y_col=None,
                                       class_mode=None, target_size=(224, 224), batch_size=32, shuffle=False)

base = ResNet50(include_top=False, weights="imagenet", input_shape=(224, 224, 3))
base.trainable = False
x = GlobalAveragePooling2D()(base.output)
model = Model(base.input, Dense(len(train_gen.class_indices), activation="softmax")(x))
model.compile(optimizer="adam", loss="categorical_crossentropy", metrics=["accuracy"])
model.fit(train_gen, epochs=5)

probs = model.predict(test_gen, steps=len(test_gen))
names = {v: k for k, v in train_gen.class_indices.items()}
test_df["breed"] = [names[i] for i in np.argmax(probs, axis=1)]
test_df.to_csv("submission.csv", index=False)
