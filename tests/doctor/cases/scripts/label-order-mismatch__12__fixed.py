import numpy as np
import pandas as pd
from tensorflow.keras.applications import EfficientNetB0
from tensorflow.keras.layers import Dense
from tensorflow.keras.models import Sequential
from tensorflow.keras.preprocessing.image import ImageDataGenerator, img_to_array, load_img

df = pd.read_csv("birds/labels.csv")  # filepath, species
species = sorted(df["species"].unique())  # the order flow_from_dataframe numbers them in
gen = ImageDataGenerator(validation_split=0.2)
train_gen = gen.flow_from_dataframe(df, x_col="filepath", y_col="species", target_size=(224, 224),
                                    subset="training")
val_gen = gen.flow_from_dataframe(df, x_col="filepath", y_col="species", target_size=(224, 224),
                                  subset="validation")

base = EfficientNetB0(include_top=False, weights="imagenet", pooling="avg", input_shape=(224, 224, 3))
base.trainable = False
model = Sequential([base, Dense(len(species), activation="softmax")])
model.compile(optimizer="adam", loss="categorical_crossentropy", metrics=["accuracy"])
model.fit(train_gen, validation_data=val_gen, epochs=10)

x = img_to_array(load_img("robin.jpg", target_size=(224, 224)))[None]
print("species:", species[np.argmax(model.predict(x))])
