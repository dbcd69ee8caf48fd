import cv2
import numpy as np
from keras.models import load_model
from keras.preprocessing import image

clf = load_model('pets_cnn.h5')

probe = image.load_img('probe.png', target_size=(64, 64))
probe = image.img_to_array(probe)
probe = np.expand_dims(probe, axis=0)
print('load_img:', clf.predict(probe))

probe_cv = cv2.imread('probe.png')
probe_cv = cv2.resize(probe_cv, (64, 64))
probe_cv = np.expand_dims(probe_cv, axis=0)
print('imread:', clf.predict(probe_cv))
