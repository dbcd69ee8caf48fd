import os
import cv2
import numpy as np
from keras.models import Sequential
from keras.layers import Conv2D, MaxPooling2D, Dense, Dropout, Flatten
from keras.optimizers import SGD
from keras.utils import np_utils

classes = ['class1', 'class2', 'class3', 'class4', 'class5']
data_dir = 'dataset/'

X = []
y = []
for label, cls in enumerate(classes):
    for fname in sorted(os.listdir(os.path.join(data_dir, cls))):
        img = cv2.imread(os.path.join(data_dir, cls, fname))
        img = cv2.resize(img, (64, 64))
        X.append(img)
        y.append(label)

X = np.array(X, dtype='float32') / 255.0
Y = np_utils.to_categorical(y, len(classes))
print(X.shape, Y.shape)

model = Sequential()
model.add(Conv2D(32, (3, 3), activation='relu', padding='same', input_shape=(64, 64, 3)))
model.add(Conv2D(32, (3, 3), activation='relu'))
model.add(MaxPooling2D(pool_size=(2, 2)))
model.add(Dropout(0.25))
model.add(Conv2D(64, (3, 3), activation='relu', padding='same'))
model.add(Conv2D(64, (3, 3), activation='relu'))
model.add(MaxPooling2D(pool_size=(2, 2)))
model.add(Dropout(0.25))
model.add(Flatten())
model.add(Dense(256, activation='relu'))
model.add(Dropout(0.5))
model.add(Dense(len(classes), activation='softmax'))

sgd = SGD(lr=0.01, decay=1e-6, momentum=0.9, nesterov=True)
model.compile(loss='categorical_crossentropy', optimizer=sgd, metrics=['accuracy'])

history = model.fit(X, Y, batch_size=32, epochs=10, validation_split=0.2, shuffle=True)
