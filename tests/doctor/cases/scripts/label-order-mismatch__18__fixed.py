import os
import sys

import numpy as np
from tensorflow.keras.applications.mobilenet_v2 import preprocess_input
from tensorflow.keras.models import load_model
from tensorflow.keras.preprocessing import image

# predict.py: the model was trained by train.py with flow_from_directory("fruits/train")
model = load_model("fruits_mobilenet.h5")
class_names = sorted(os.listdir("fruits/train"))  # the order flow_from_directory numbered them in

for path in sys.argv[1:]:
    x = image.img_to_array(image.load_img(path, target_size=(224, 224)))
    probs = model.predict(preprocess_input(np.expand_dims(x, 0)))[0]
    best = int(np.argmax(probs))
    print(path, class_names[best], f"{probs[best]:.2%}")
