from keras.applications.mobilenet_v2 import MobileNetV2
model1 = MobileNetV2(weights='imagenet')

import cv2
img = cv2.imread('image_input.jpg')
img = cv2.resize(img, (224, 224))
out1 = model1.predict(img[np.newaxis, :, :, :])

# and the same with VGG:
from keras.applications.vgg16 import VGG16
model2 = MobileNetV2(weights='imagenet')
out2 = model2.predict(img[np.newaxis, :, :, :])
