import numpy as np
import tensorflow as tf

model = tf.keras.models.load_model("flowers_mobilenet.h5")
test_ds = tf.keras.utils.image_dataset_from_directory(
    "data/test", image_size=(224, 224), shuffle=False
)
y_true, y_pred = [], []
for images, labels in test_ds:
    probs = model(images, training=False)
    y_pred.extend(np.argmax(probs, axis=1))
    y_true.extend(labels.numpy())
print("accuracy", np.mean(np.array(y_true) == np.array(y_pred)))
