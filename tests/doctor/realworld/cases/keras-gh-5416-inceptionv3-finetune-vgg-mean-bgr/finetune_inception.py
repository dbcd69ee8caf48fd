import numpy as np
from keras.applications.inception_v3 import InceptionV3
from keras.layers import Dense, GlobalAveragePooling2D
from keras.models import Model
from keras.optimizers import SGD
from keras.preprocessing.image import ImageDataGenerator

IMG = 299
N_CLASSES = 12
MEAN_BGR = np.array([103.939, 116.779, 123.68], dtype="float32")


def imagenet_mean_bgr(x):
    x = x[..., ::-1]
    return x - MEAN_BGR


train_gen = ImageDataGenerator(preprocessing_function=imagenet_mean_bgr,
                               horizontal_flip=True,
                               rotation_range=15)
val_gen = ImageDataGenerator(preprocessing_function=imagenet_mean_bgr)

train = train_gen.flow_from_directory("leaves/train", target_size=(IMG, IMG), batch_size=24)
val = val_gen.flow_from_directory("leaves/val", target_size=(IMG, IMG), batch_size=24, shuffle=False)

base = InceptionV3(weights="imagenet", include_top=False)
x = GlobalAveragePooling2D()(base.output)
x = Dense(512, activation="relu")(x)
out = Dense(N_CLASSES, activation="softmax")(x)
model = Model(inputs=base.input, outputs=out)

for layer in base.layers:
    layer.trainable = False
model.compile(optimizer="rmsprop", loss="categorical_crossentropy", metrics=["accuracy"])
model.fit_generator(train, steps_per_epoch=len(train), epochs=5,
                    validation_data=val, validation_steps=len(val))

for layer in model.layers[:249]:
    layer.trainable = False
for layer in model.layers[249:]:
    layer.trainable = True
model.compile(optimizer=SGD(lr=1e-4, momentum=0.9), loss="categorical_crossentropy", metrics=["accuracy"])
model.fit_generator(train, steps_per_epoch=len(train), epochs=20,
                    validation_data=val, validation_steps=len(val))
model.save("leaves_inception.h5")
