import numpy as np
import tensorflow as tf
from PIL import Image

from preprocessing import preprocess_image_array

model = tf.keras.models.load_model("models/skin_classifier.keras")
CLASS_NAMES = ["acne", "eczema", "melanoma", "psoriasis", "normal"]


def predict(path):
    x = preprocess_image_array(Image.open(path))
    probs = model.predict(x)[0]
    return CLASS_NAMES[int(np.argmax(probs))], float(np.max(probs))
