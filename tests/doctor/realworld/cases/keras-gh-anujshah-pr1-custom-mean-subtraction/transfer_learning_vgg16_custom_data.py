import os
import numpy as np
from vgg16 import VGG16
from keras.preprocessing import image
from imagenet_utils import preprocess_input, decode_predictions
from keras.layers import Dense, Input
from keras.models import Model
from keras.utils import np_utils
from sklearn.utils import shuffle
from sklearn.cross_validation import train_test_split

data_path = os.path.join(os.getcwd(), 'data')
imgs = []
for folder in os.listdir(data_path):
    for fname in os.listdir(os.path.join(data_path, folder)):
        im = image.load_img(os.path.join(data_path, folder, fname), target_size=(224, 224))
        arr = np.expand_dims(image.img_to_array(im), axis=0)
        imgs.append(preprocess_input(arr))
img_data = np.concatenate(imgs)

num_classes = 4
labels = np.ones((img_data.shape[0],), dtype='int64')
labels[0:202] = 0
labels[202:404] = 1
labels[404:606] = 2
labels[606:] = 3
Y = np_utils.to_categorical(labels, num_classes)

x, y = shuffle(img_data, Y, random_state=2)
X_train, X_test, y_train, y_test = train_test_split(x, y, test_size=0.2, random_state=2)

image_input = Input(shape=(224, 224, 3))
vgg = VGG16(input_tensor=image_input, include_top=True, weights='imagenet')
fc2 = vgg.get_layer('fc2').output
out = Dense(num_classes, activation='softmax', name='output')(fc2)
custom_vgg_model = Model(image_input, out)
for layer in custom_vgg_model.layers[:-1]:
    layer.trainable = False

custom_vgg_model.compile(loss='categorical_crossentropy', optimizer='rmsprop', metrics=['accuracy'])
custom_vgg_model.fit(X_train, y_train, batch_size=32, epochs=12, verbose=1,
                     validation_data=(X_test, y_test))
loss, acc = custom_vgg_model.evaluate(X_test, y_test, batch_size=10, verbose=1)
print("[INFO] loss={:.4f}, accuracy: {:.4f}%".format(loss, acc * 100))
