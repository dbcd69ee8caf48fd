"""Binary image classifier on a ResNet50 base: feature extraction, then fine-tuning.

The generators apply resnet50.preprocess_input (caffe-style BGR mean subtraction) for
training, validation and test; augmentation is only in the training generator.
"""
import numpy as np
from sklearn.metrics import classification_report
from tensorflow import keras
from tensorflow.keras.applications import resnet50
from tensorflow.keras.preprocessing.image import ImageDataGenerator

IMG_SIZE = (224, 224)
BATCH = 32
DATA = "data/chest_xray"

train_gen = ImageDataGenerator(
    preprocessing_function=resnet50.preprocess_input,
    rotation_range=10,
    width_shift_range=0.1,
    height_shift_range=0.1,
    zoom_range=0.1,
    horizontal_flip=True,
)
eval_gen = ImageDataGenerator(preprocessing_function=resnet50.preprocess_input)

train_flow = train_gen.flow_from_directory(
    f"{DATA}/train", target_size=IMG_SIZE, batch_size=BATCH, class_mode="binary", shuffle=True, seed=7
)
val_flow = eval_gen.flow_from_directory(
    f"{DATA}/val", target_size=IMG_SIZE, batch_size=BATCH, class_mode="binary", shuffle=False
)
test_flow = eval_gen.flow_from_directory(
    f"{DATA}/test", target_size=IMG_SIZE, batch_size=BATCH, class_mode="binary", shuffle=False
)
assert val_flow.class_indices == train_flow.class_indices == test_flow.class_indices

base = resnet50.ResNet50(weights="imagenet", include_top=False, input_shape=IMG_SIZE + (3,))
base.trainable = False

inputs = keras.Input(shape=IMG_SIZE + (3,))
x = base(inputs, training=False)
x = keras.layers.GlobalAveragePooling2D()(x)
x = keras.layers.Dropout(0.3)(x)
outputs = keras.layers.Dense(1, activation="sigmoid")(x)
model = keras.Model(inputs, outputs)

model.compile(
    optimizer=keras.optimizers.Adam(1e-3),
    loss="binary_crossentropy",
    metrics=[keras.metrics.BinaryAccuracy(name="acc"), keras.metrics.AUC(name="auc")],
)
callbacks = [
    keras.callbacks.ModelCheckpoint("resnet50_head.keras", monitor="val_auc", mode="max", save_best_only=True),
    keras.callbacks.EarlyStopping(monitor="val_auc", mode="max", patience=4, restore_best_weights=True),
]
model.fit(train_flow, validation_data=val_flow, epochs=15, callbacks=callbacks)

# fine-tune the last stage; the base stays in inference mode (training=False above), so its
# BatchNormalization layers keep their ImageNet statistics
base.trainable = True
for layer in base.layers:
    if not layer.name.startswith("conv5_"):
        layer.trainable = False
model.compile(
    optimizer=keras.optimizers.Adam(1e-5),
    loss="binary_crossentropy",
    metrics=[keras.metrics.BinaryAccuracy(name="acc"), keras.metrics.AUC(name="auc")],
)
model.fit(train_flow, validation_data=val_flow, epochs=10, callbacks=callbacks)

probs = model.predict(test_flow).ravel()
preds = (probs > 0.5).astype(int)
names = sorted(test_flow.class_indices, key=test_flow.class_indices.get)
print(classification_report(test_flow.classes, preds, target_names=names))
