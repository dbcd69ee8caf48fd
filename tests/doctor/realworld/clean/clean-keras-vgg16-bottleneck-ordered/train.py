"""Bottleneck features: run VGG16 once over the images in a fixed order, save the features,
then train a small classifier on them."""
import numpy as np
from keras import applications
from keras.layers import Dense, Dropout, Flatten
from keras.models import Sequential
from keras.preprocessing.image import ImageDataGenerator

img_width, img_height = 150, 150
train_data_dir = "data/train"
validation_data_dir = "data/validation"
epochs = 50
batch_size = 16


def save_bottleneck_features():
    datagen = ImageDataGenerator(preprocessing_function=applications.vgg16.preprocess_input)
    model = applications.VGG16(include_top=False, weights="imagenet")

    # shuffle=False: the features are saved in directory order so that
    # generator.classes gives their labels in the same order.
    generator = datagen.flow_from_directory(
        train_data_dir,
        target_size=(img_width, img_height),
        batch_size=batch_size,
        class_mode=None,
        shuffle=False,
    )
    features_train = model.predict(generator, steps=int(np.ceil(generator.samples / batch_size)))
    np.save("bottleneck_features_train.npy", features_train)
    np.save("bottleneck_labels_train.npy", generator.classes)

    generator = datagen.flow_from_directory(
        validation_data_dir,
        target_size=(img_width, img_height),
        batch_size=batch_size,
        class_mode=None,
        shuffle=False,
    )
    features_val = model.predict(generator, steps=int(np.ceil(generator.samples / batch_size)))
    np.save("bottleneck_features_validation.npy", features_val)
    np.save("bottleneck_labels_validation.npy", generator.classes)


def train_top_model():
    train_data = np.load("bottleneck_features_train.npy")
    train_labels = np.load("bottleneck_labels_train.npy")
    validation_data = np.load("bottleneck_features_validation.npy")
    validation_labels = np.load("bottleneck_labels_validation.npy")

    model = Sequential()
    model.add(Flatten(input_shape=train_data.shape[1:]))
    model.add(Dense(256, activation="relu"))
    model.add(Dropout(0.5))
    model.add(Dense(1, activation="sigmoid"))

    model.compile(optimizer="rmsprop", loss="binary_crossentropy", metrics=["accuracy"])
    model.fit(
        train_data,
        train_labels,
        epochs=epochs,
        batch_size=batch_size,
        shuffle=True,
        validation_data=(validation_data, validation_labels),
    )
    model.save_weights("bottleneck_fc_model.weights.h5")


save_bottleneck_features()
train_top_model()
