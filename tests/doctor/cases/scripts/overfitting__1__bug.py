from keras.datasets import cifar10
from keras.preprocessing.image import ImageDataGenerator
from keras.utils import np_utils

import resnet

batch_size = 32
nb_classes = 10
nb_epoch = 200
data_augmentation = False  # expect: overfitting

(X_train, y_train), (X_test, y_test) = cifar10.load_data()
Y_train = np_utils.to_categorical(y_train, nb_classes)
Y_test = np_utils.to_categorical(y_test, nb_classes)
X_train = X_train.astype("float32") / 255
X_test = X_test.astype("float32") / 255

model = resnet.ResnetBuilder.build_resnet_18((3, 32, 32), nb_classes)
model.compile(loss="categorical_crossentropy", optimizer="adam", metrics=["accuracy"])

if not data_augmentation:  # expect: overfitting
    print("Not using data augmentation.")
    model.fit(
        X_train, Y_train, batch_size=batch_size, nb_epoch=nb_epoch,
        validation_data=(X_test, Y_test), shuffle=True,
    )
else:
    print("Using real-time data augmentation.")
    datagen = ImageDataGenerator(width_shift_range=0.1, height_shift_range=0.1, horizontal_flip=True)
    datagen.fit(X_train)
    model.fit_generator(
        datagen.flow(X_train, Y_train, batch_size=batch_size),
        steps_per_epoch=X_train.shape[0] // batch_size,
        validation_data=(X_test, Y_test),
        epochs=nb_epoch,
    )
