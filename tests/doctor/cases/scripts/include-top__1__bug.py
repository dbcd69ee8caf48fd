import tensorflow as tf
from tensorflow.keras.applications.resnet50 import ResNet50, preprocess_input

train_ds = tf.keras.utils.image_dataset_from_directory(
    "food/train", image_size=(224, 224), batch_size=32, seed=42)
val_ds = tf.keras.utils.image_dataset_from_directory(
    "food/val", image_size=(224, 224), batch_size=32, shuffle=False)
num_classes = len(train_ds.class_names)
train_ds = train_ds.map(lambda x, y: (preprocess_input(x), y))
val_ds = val_ds.map(lambda x, y: (preprocess_input(x), y))

base = ResNet50(weights="imagenet")  # expect: include-top
base.trainable = False

model = tf.keras.Sequential([
    base,
    tf.keras.layers.Dense(256, activation="relu"),  # expect: include-top
    tf.keras.layers.Dropout(0.5),
    tf.keras.layers.Dense(num_classes, activation="softmax"),
])
model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
model.fit(train_ds, validation_data=val_ds, epochs=10)
# accuracy plateaus around 40%
