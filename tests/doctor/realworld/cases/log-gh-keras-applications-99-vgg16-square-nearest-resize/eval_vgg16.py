import numpy as np
from keras.applications.vgg16 import VGG16, preprocess_input
from keras.preprocessing import image
from keras.preprocessing.image import ImageDataGenerator
from keras.metrics import top_k_categorical_accuracy

VAL_DIR = '/data/ilsvrc12_val_by_wnid'

net = VGG16(weights='imagenet')

def top5(y_true, y_pred):
    return top_k_categorical_accuracy(y_true, y_pred, k=5)

net.compile(optimizer='sgd', loss='categorical_crossentropy', metrics=['accuracy', top5])

gen = ImageDataGenerator(preprocessing_function=preprocess_input)
val = gen.flow_from_directory(VAL_DIR, target_size=(224, 224), batch_size=50,
                              class_mode='categorical', shuffle=False)

res = net.evaluate_generator(val, steps=len(val), verbose=1)
print('loss %.4f  top-1 %.4f  top-5 %.4f' % tuple(res))
