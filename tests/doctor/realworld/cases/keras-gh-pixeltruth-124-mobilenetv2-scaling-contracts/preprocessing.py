import numpy as np
from PIL import Image

TARGET_SIZE = (224, 224)


def preprocess_image_array(image: Image.Image) -> np.ndarray:
    image = image.convert('RGB').resize(TARGET_SIZE)
    arr = np.asarray(image, dtype=np.float32)
    return np.expand_dims(arr, axis=0)
