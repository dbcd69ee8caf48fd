import numpy as np
import tensorflow as tf

train_dir = "gtsrb/train"  # one folder per sign: 0, 1, ..., 42
train_ds = tf.keras.utils.image_dataset_from_directory(train_dir, image_size=(224, 224),
                                                       label_mode="categorical", batch_size=64)
base = tf.keras.applications.MobileNetV2(include_top=False, weights="imagenet", input_shape=(224, 224, 3),
                                         pooling="avg")
base.trainable = False
inputs = tf.keras.Input((224, 224, 3))
x = tf.keras.applications.mobilenet_v2.preprocess_input(inputs)
outputs = tf.keras.layers.Dense(43, activation="softmax")(base(x, training=False))
model = tf.keras.Model(inputs, outputs)
model.compile(optimizer="adam", loss="categorical_crossentropy", metrics=["accuracy"])
model.fit(train_ds, epochs=5)

sign_ids = train_ds.class_names  # the loader's order: "0", "1", "10", ...
img = tf.keras.utils.load_img("stop.png", target_size=(224, 224))
probs = model.predict(np.expand_dims(tf.keras.utils.img_to_array(img), 0))
print("sign id:", sign_ids[int(np.argmax(probs))])
