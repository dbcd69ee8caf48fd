import cv2
import numpy as np
from keras.applications.resnet50 import ResNet50, decode_predictions, preprocess_input
from keras.preprocessing import image

net = ResNet50(weights='imagenet')
photo_path = 'samples/tabby_07.jpg'

# keras loader
pil_img = image.load_img(photo_path, target_size=(224, 224))
arr_k = image.img_to_array(pil_img)
arr_k = np.expand_dims(arr_k, axis=0)
arr_k = preprocess_input(arr_k)
print('keras:', decode_predictions(net.predict(arr_k), top=3)[0])

# opencv loader
arr_cv = cv2.imread(photo_path)
arr_cv = cv2.resize(arr_cv, (224, 224), interpolation=cv2.INTER_LINEAR)
arr_cv = np.expand_dims(arr_cv, axis=0)
arr_cv = preprocess_input(arr_cv)
print('opencv:', decode_predictions(net.predict(arr_cv), top=3)[0])
