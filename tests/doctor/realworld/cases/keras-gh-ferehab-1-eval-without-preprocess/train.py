import numpy as np
import pandas as pd
from skimage.transform import resize
from keras.utils import to_categorical
from keras_vggface.vggface import VGGFace
from keras.models import Model
from keras.layers import Flatten, Dense
from keras.preprocessing.image import ImageDataGenerator
from keras.optimizers import Adam, SGD

H, W = 197, 197
N_CLASSES = 7
BATCH = 64


def preprocess_input(x):
    x -= 128.8006  # mean pixel of the training set
    return x


def load_csv(path):
    df = pd.read_csv(path)
    imgs = np.empty((len(df), H, W, 3))
    for i, seq in enumerate(df['pixels'].tolist()):
        face = np.asarray([float(p) for p in seq.split(' ')]).reshape(48, 48)
        face = resize(face, (H, W), order=3, mode='constant')
        imgs[i] = np.stack([face, face, face], axis=-1)
    return preprocess_input(imgs), to_categorical(df['emotion'])


x_train, y_train = load_csv('FER-2013/fer2013_train.csv')
val = load_csv('FER-2013/fer2013_eval.csv')

base = VGGFace(model='resnet50', include_top=False, weights='vggface', input_shape=(H, W, 3))
x = Flatten()(base.output)
x = Dense(1024, activation='relu')(x)
out = Dense(N_CLASSES, activation='softmax')(x)
model = Model(inputs=base.input, outputs=out)

gen = ImageDataGenerator(rotation_range=10, shear_range=10, zoom_range=0.1,
                         fill_mode='reflect', horizontal_flip=True)
flow = gen.flow(x_train, y_train, batch_size=BATCH)

for layer in base.layers:
    layer.trainable = False
model.compile(optimizer=Adam(lr=1e-3), loss='categorical_crossentropy', metrics=['accuracy'])
model.fit_generator(flow, steps_per_epoch=len(x_train) // BATCH, epochs=5, validation_data=val)

for layer in model.layers:
    layer.trainable = True
model.compile(optimizer=SGD(lr=1e-4, momentum=0.9, nesterov=True),
              loss='categorical_crossentropy', metrics=['accuracy'])
model.fit_generator(flow, steps_per_epoch=len(x_train) // BATCH, epochs=100, validation_data=val)
model.save('ResNet-50.h5')
