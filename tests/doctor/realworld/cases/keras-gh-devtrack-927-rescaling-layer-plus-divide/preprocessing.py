import numpy as np
from PIL import Image

IMG_SIZE = (224, 224)


def preprocess_image_array(image: Image.Image) -> np.ndarray:
    image = image.convert("RGB").resize(IMG_SIZE)
    arr = np.asarray(image, dtype=np.float32) / 255.0
    return np.expand_dims(arr, axis=0)
