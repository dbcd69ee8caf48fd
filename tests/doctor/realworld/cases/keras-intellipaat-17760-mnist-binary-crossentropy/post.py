import numpy as np
import pandas as pd
from keras.models import Sequential
from keras.layers import Convolution2D, MaxPooling2D, Dropout, Flatten, Dense
from keras.utils import np_utils

train = pd.read_csv('train.csv')
test = pd.read_csv('test.csv')

X_train = train.iloc[:, 1:].values.astype('float32').reshape(-1, 28, 28, 1) / 255
y_train = np_utils.to_categorical(train.iloc[:, 0].values, 10)
X_test = test.values.astype('float32').reshape(-1, 28, 28, 1) / 255

model = Sequential()
model.add(Convolution2D(100, 5, 5, input_shape=(28, 28, 1), border_mode='valid',
                        activation='relu', init='glorot_uniform'))
model.add(MaxPooling2D(pool_size=(2, 2)))
model.add(Convolution2D(100, 3, 3, activation='relu', init='glorot_uniform'))
model.add(MaxPooling2D(pool_size=(2, 2)))
model.add(Dropout(0.3))
model.add(Flatten())
for units in (100, 100):
    model.add(Dense(units, activation='relu', init='glorot_uniform'))
    model.add(Dropout(0.3))
model.add(Dense(10, activation='softmax', init='glorot_uniform'))
model.compile(optimizer='adamax', loss='binary_crossentropy', metrics=['accuracy'])

model.fit(X_train, y_train, batch_size=64, nb_epoch=10, validation_split=0.1)

predictions = model.predict_classes(X_test, verbose=0)
pd.DataFrame({'ImageId': range(1, len(predictions) + 1), 'Label': predictions}).to_csv('submission.csv', index=False)
