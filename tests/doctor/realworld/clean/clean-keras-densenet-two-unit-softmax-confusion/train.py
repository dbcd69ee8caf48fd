"""Two classes with a two-unit softmax and one-hot labels, then a confusion matrix from a test
generator that keeps its order (shuffle=False) so predictions line up with generator.classes."""
import numpy as np
from sklearn.metrics import classification_report, confusion_matrix
from tensorflow.keras.applications import DenseNet121
from tensorflow.keras.applications.densenet import preprocess_input
from tensorflow.keras.layers import Dense, GlobalAveragePooling2D
from tensorflow.keras.models import Model
from tensorflow.keras.optimizers import Adam
from tensorflow.keras.preprocessing.image import ImageDataGenerator

size = (224, 224)
train_gen = ImageDataGenerator(
    preprocessing_function=preprocess_input, horizontal_flip=True, rotation_range=10
).flow_from_directory("xray/train", target_size=size, class_mode="categorical", batch_size=32)
val_gen = ImageDataGenerator(preprocessing_function=preprocess_input).flow_from_directory(
    "xray/val", target_size=size, class_mode="categorical", batch_size=32
)
test_gen = ImageDataGenerator(preprocessing_function=preprocess_input).flow_from_directory(
    "xray/test", target_size=size, class_mode="categorical", batch_size=32, shuffle=False
)

base = DenseNet121(include_top=False, weights="imagenet", input_shape=size + (3,))
base.trainable = False
x = GlobalAveragePooling2D()(base.output)
out = Dense(2, activation="softmax")(x)
model = Model(base.input, out)
model.compile(optimizer=Adam(1e-3), loss="categorical_crossentropy", metrics=["accuracy"])
model.fit(train_gen, validation_data=val_gen, epochs=10)

probs = model.predict(test_gen)
y_pred = np.argmax(probs, axis=1)
y_true = test_gen.classes
names = list(test_gen.class_indices.keys())
print(confusion_matrix(y_true, y_pred))
print(classification_report(y_true, y_pred, target_names=names))
