import cv2
import numpy as np
from keras.models import load_model


def load_image(path, size=224):
    img = cv2.imread(path)
    img = cv2.cvtColor(img, cv2.COLOR_BGR2RGB)
    img = cv2.resize(img, (size, size))
    if np.random.rand() > 0.5:  # expect: augmented-evaluation
        img = cv2.flip(img, 1)
    return img / 255.0


model = load_model("model.h5")
X_test = np.array([load_image(p) for p in test_paths])
preds = model.predict(X_test)  # expect: augmented-evaluation
print((preds.argmax(1) == y_test).mean())
