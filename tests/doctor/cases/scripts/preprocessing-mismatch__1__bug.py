import tensorflow as tf
from tensorflow.keras.applications import ResNet50
from tensorflow.keras.preprocessing.image import ImageDataGenerator
from tensorflow.keras.layers import Dense, GlobalAveragePooling2D, Dropout
from tensorflow.keras.models import Model

IMG = 224
train_datagen = ImageDataGenerator(rescale=1. / 255, zoom_range=0.15, horizontal_flip=True)  # expect: preprocessing-mismatch
val_datagen = ImageDataGenerator(rescale=1. / 255)

train_it = train_datagen.flow_from_directory("defects/train", target_size=(IMG, IMG), batch_size=32)
val_it = val_datagen.flow_from_directory("defects/val", target_size=(IMG, IMG), batch_size=32)

base = ResNet50(include_top=False, weights="imagenet", input_shape=(IMG, IMG, 3))  # expect: preprocessing-mismatch
base.trainable = False
x = GlobalAveragePooling2D()(base.output)
x = Dropout(0.3)(x)
out = Dense(train_it.num_classes, activation="softmax")(x)
model = Model(base.input, out)
model.compile(optimizer=tf.keras.optimizers.Adam(1e-3), loss="categorical_crossentropy",
              metrics=["accuracy"])
model.fit(train_it, validation_data=val_it, epochs=25)
