import numpy as np
from keras.applications.vgg16 import VGG16, preprocess_input
from keras.layers import Dense, Flatten
from keras.models import Model
from keras.preprocessing.image import ImageDataGenerator, img_to_array, load_img

base = VGG16(weights="imagenet", include_top=False, input_shape=(224, 224, 3))
model = Model(base.input, Dense(10, activation="softmax")(Flatten()(base.output)))
model.compile("sgd", "categorical_crossentropy", metrics=["accuracy"])
datagen = ImageDataGenerator(preprocessing_function=preprocess_input)
model.fit(datagen.flow_from_directory("train", target_size=(224, 224)), epochs=5)

x_test = np.array([img_to_array(load_img(f, target_size=(224, 224))) for f in files])
print(model.evaluate(preprocess_input(x_test), y_test))
