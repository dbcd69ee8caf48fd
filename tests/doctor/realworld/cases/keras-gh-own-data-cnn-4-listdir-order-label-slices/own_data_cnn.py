import os,cv2
import numpy as np
import matplotlib.pyplot as plt

from sklearn.utils import shuffle
from sklearn.cross_validation import train_test_split

from keras import backend as K
K.set_image_dim_ordering('tf')

from keras.utils import np_utils
from keras.models import Sequential
from keras.layers.core import Dense, Dropout, Activation, Flatten
from keras.layers.convolutional import Convolution2D, MaxPooling2D
from keras.optimizers import SGD,RMSprop,adam

PATH = os.getcwd()
data_path = PATH + '/photos'
folder_list = os.listdir(data_path)

rows=128
cols=128
channels=1
n_epoch=20

pixel_list=[]

for folder in folder_list:
	files=os.listdir(data_path+'/'+ folder)
	print ('Loaded the images of folder-'+'{}\n'.format(folder))
	for f in files:
		im=cv2.imread(data_path + '/'+ folder + '/'+ f )
		im=cv2.cvtColor(im, cv2.COLOR_BGR2GRAY)
		im=cv2.resize(im,(rows,cols))
		pixel_list.append(im)

pixels = np.array(pixel_list)
pixels = pixels.astype('float32')
pixels /= 255
print (pixels.shape)
pixels = np.expand_dims(pixels, axis=4)

n_classes = 4
n_samples = pixels.shape[0]
y = np.ones((n_samples,),dtype='int64')

y[0:150]=0
y[150:330]=1
y[330:500]=2
y[500:]=3

names = ['bikes','boats','buses','planes']

Y = np_utils.to_categorical(y, n_classes)

x,y = shuffle(pixels,Y, random_state=2)
X_train, X_test, y_train, y_test = train_test_split(x, y, test_size=0.2, random_state=2)

input_shape=pixels[0].shape

model = Sequential()
model.add(Convolution2D(32, 3,3,border_mode='same',input_shape=input_shape))
model.add(Activation('relu'))
model.add(Convolution2D(32, 3, 3))
model.add(Activation('relu'))
model.add(MaxPooling2D(pool_size=(2, 2)))
model.add(Dropout(0.5))
model.add(Flatten())
model.add(Dense(64))
model.add(Activation('relu'))
model.add(Dropout(0.5))
model.add(Dense(n_classes))
model.add(Activation('softmax'))

model.compile(loss='categorical_crossentropy', optimizer='rmsprop',metrics=["accuracy"])

hist = model.fit(X_train, y_train, batch_size=16, nb_epoch=n_epoch, verbose=1, validation_data=(X_test, y_test))

test_image = cv2.imread('photos/boats/boat_017.jpg')
test_image=cv2.cvtColor(test_image, cv2.COLOR_BGR2GRAY)
test_image=cv2.resize(test_image,(rows,cols))
test_image = np.array(test_image).astype('float32') / 255
test_image= np.expand_dims(np.expand_dims(test_image, axis=2), axis=0)
print (names[model.predict_classes(test_image)[0]])
