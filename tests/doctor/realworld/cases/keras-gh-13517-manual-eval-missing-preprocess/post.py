import os
import cv2
import numpy as np
from keras.applications.vgg16 import VGG16, preprocess_input
from keras.preprocessing.image import ImageDataGenerator
from keras.models import Model
from keras.layers import Dense, GlobalAveragePooling2D
from keras.optimizers import Adam

HEIGHT = 224
WIDTH = 224
BATCH_SIZE = 32
NUM_CLASSES = 4

base_model = VGG16(weights='imagenet', include_top=False, input_shape=(HEIGHT, WIDTH, 3))
for layer in base_model.layers:
    layer.trainable = False

x = base_model.output
x = GlobalAveragePooling2D()(x)
x = Dense(256, activation='relu')(x)
predictions = Dense(NUM_CLASSES, activation='softmax')(x)
model = Model(inputs=base_model.input, outputs=predictions)

model.compile(optimizer=Adam(lr=0.0001), loss='sparse_categorical_crossentropy', metrics=['accuracy'])

train_datagen=ImageDataGenerator(preprocessing_function=preprocess_input,
    rescale=1./255,
    horizontal_flip=True)

valid_datagen=ImageDataGenerator(preprocessing_function=preprocess_input,
    rescale=1./255)

train_generator = train_datagen.flow_from_directory(os.getcwd() + "\\dataset\\training_set\\",
    target_size=(HEIGHT, WIDTH), batch_size=BATCH_SIZE, class_mode='sparse')

valid_generator = valid_datagen.flow_from_directory(os.getcwd() + "\\dataset\\validation_set\\",
    target_size=(HEIGHT, WIDTH), batch_size=BATCH_SIZE, class_mode='sparse', shuffle=False)

model.fit_generator(train_generator,
    steps_per_epoch=train_generator.n // BATCH_SIZE,
    validation_data=valid_generator,
    validation_steps=valid_generator.n // BATCH_SIZE,
    epochs=20)


def load_data():
    folder = os.getcwd() + "\\dataset\\validation_set\\"
    classes = sorted(os.listdir(folder))

    data = []
    pred = []
    for i in range(len(classes)):
        files = sorted(os.listdir(folder + classes[i]))
        for f in files:
            pic = cv2.imread(folder + classes[i] + "/" + f)
            pic = cv2.resize(pic, (HEIGHT, WIDTH))
            data.append(pic)
            pred.append(i)

    return np.asarray(data), np.asarray(pred)


data, pred = load_data()
print(model.evaluate(data, pred))
