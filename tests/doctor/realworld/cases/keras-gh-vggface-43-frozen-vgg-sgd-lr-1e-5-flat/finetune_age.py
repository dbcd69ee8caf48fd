import logging

import numpy as np
from keras.callbacks import ModelCheckpoint
from keras.layers import Dense, Flatten
from keras.models import Model
from keras.optimizers import SGD
from keras.utils import np_utils
from keras_vggface.vggface import VGGFace
from sklearn.model_selection import train_test_split

from utk_data import load_data

logging.basicConfig(level=logging.DEBUG)

input_path = 'data/utk_face_224.mat'
batch_size = 32
nb_epochs = 30
nb_class = 7
hidden_dim = 512

logging.debug("Loading data...")
image, gender, age, _, image_size, _ = load_data(input_path)
X_data = image
y_data_a = np_utils.to_categorical(age, nb_class)

X_train, X_test, y_train_a, y_test_a = train_test_split(X_data, y_data_a, test_size=0.2, random_state=42)

vgg_model = VGGFace(include_top=False, input_shape=(224, 224, 3))

for layer in vgg_model.layers:
    layer.trainable = False

last_layer = vgg_model.get_layer('pool5').output
x = Flatten(name='flatten')(last_layer)
x = Dense(hidden_dim, activation='relu', name='fc6')(x)
x = Dense(hidden_dim, activation='relu', name='fc7')(x)
out = Dense(nb_class, activation='softmax', name='fc8')(x)
model = Model(vgg_model.input, out)

sgd = SGD(lr=0.00001, momentum=0.9)
model.compile(optimizer=sgd, loss=["categorical_crossentropy"], metrics=['accuracy'])
model.summary()

callbacks = [ModelCheckpoint('checkpoints/age.{epoch:02d}-{val_loss:.2f}.hdf5', monitor='val_loss',
                             save_best_only=True)]

hist = model.fit(X_train, y_train_a, batch_size=batch_size, epochs=nb_epochs, callbacks=callbacks,
                 validation_data=(X_test, y_test_a))
np.save('history_age.npy', hist.history)
