import sys
import tensorflow as tf
from PIL import Image

from preprocessing import preprocess_image_array

MODEL_PATH = 'models/pixeltruth_model.h5'
model = tf.keras.models.load_model(MODEL_PATH)


def preprocess_image(path):
    return preprocess_image_array(Image.open(path))


def predict(path):
    score = float(model.predict(preprocess_image(path))[0][0])
    label = 'FAKE' if score > 0.5 else 'REAL'
    return label, score


if __name__ == '__main__':
    print(predict(sys.argv[1]))
