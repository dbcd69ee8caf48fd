from keras.preprocessing.image import ImageDataGenerator
from keras.applications.vgg16 import VGG16
from keras.models import Model
from keras.layers import Flatten, Dense, Dropout
from keras.preprocessing import image
import numpy as np

img_height, img_width = 160, 160
train_data_dir = 'shots/train'
# the folders under shots/train
kinds = ['beach', 'forest', 'harbour', 'mountain', 'street']

train_datagen = ImageDataGenerator(rescale=1. / 255, horizontal_flip=True)
train_generator = train_datagen.flow_from_directory(
        train_data_dir,
        target_size=(img_height, img_width),
        batch_size=32,
        class_mode='categorical')

base = VGG16(weights='imagenet', include_top=False, input_shape=(img_height, img_width, 3))
for layer in base.layers:
    layer.trainable = False
x = Flatten()(base.output)
x = Dense(256, activation='relu')(x)
x = Dropout(0.5)(x)
out = Dense(len(kinds), activation='softmax')(x)
model = Model(input=base.input, output=out)
model.compile(optimizer='rmsprop', loss='categorical_crossentropy', metrics=['accuracy'])
model.fit_generator(train_generator, samples_per_epoch=2400, nb_epoch=12)

for fname in ['check/a.jpg', 'check/b.jpg', 'check/c.jpg']:
    img = image.load_img(fname, target_size=(img_height, img_width))
    arr = np.expand_dims(image.img_to_array(img) / 255., axis=0)
    probs = model.predict(arr)[0]
    print(fname, kinds[np.argmax(probs)], probs)
