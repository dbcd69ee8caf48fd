import numpy as np
import tensorflow as tf
from sklearn.metrics import accuracy_score

test_ds = tf.keras.utils.image_dataset_from_directory("leaf/test", image_size=(224, 224),  # expect: label-order-mismatch
                                                      batch_size=32)
model = tf.keras.models.load_model("leaf_mobilenet.keras")

y_prob = model.predict(test_ds)  # expect: label-order-mismatch
y_pred = y_prob.argmax(axis=1)
y_true = np.concatenate([y for x, y in test_ds], axis=0)  # expect: label-order-mismatch
print("accuracy", accuracy_score(y_true, y_pred))
