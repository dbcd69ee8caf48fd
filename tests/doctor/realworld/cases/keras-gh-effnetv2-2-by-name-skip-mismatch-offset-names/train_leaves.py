import tensorflow as tf
from tensorflow import keras
import effv2_keras as effv2   # third-party port of EfficientNetV2 to Keras

IMG = 384
N_LEAF_CLASSES = 38
WEIGHTS = "weights/efficientnetv2-m-imagenet.h5"

train_ds = keras.preprocessing.image_dataset_from_directory(
    "leaves/train", image_size=(IMG, IMG), batch_size=16, label_mode="categorical")
val_ds = keras.preprocessing.image_dataset_from_directory(
    "leaves/val", image_size=(IMG, IMG), batch_size=16, label_mode="categorical")

# 's' worked with the same lines; 'm' is what we want now
backbone = effv2.EfficientNetV2(model_type="m", num_classes=0, input_shape=(IMG, IMG, 3), pretrained=None)
backbone.load_weights(WEIGHTS, by_name=True, skip_mismatch=True)

x = keras.layers.GlobalAveragePooling2D()(backbone.output)
x = keras.layers.Dropout(0.3)(x)
out = keras.layers.Dense(N_LEAF_CLASSES, activation="softmax", name="leaf_head")(x)
model = keras.Model(backbone.input, out)

model.compile(optimizer=keras.optimizers.Adam(1e-4),
              loss="categorical_crossentropy", metrics=["accuracy"])
model.fit(train_ds, validation_data=val_ds, epochs=20)
# the loss explodes within two epochs; with model_type="s" it trains fine
