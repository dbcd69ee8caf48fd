from tensorflow.keras.applications import MobileNetV2
from tensorflow.keras.applications.mobilenet_v2 import preprocess_input
from tensorflow.keras.preprocessing.image import ImageDataGenerator
from tensorflow.keras import layers, Model, optimizers

train_dir = "fruits/Training"
val_dir = "fruits/Test"

datagen = ImageDataGenerator(preprocessing_function=preprocess_input)
train_flow = datagen.flow_from_directory(train_dir, target_size=(224, 224), batch_size=64)  # expect: activation-loss-mismatch
val_flow = datagen.flow_from_directory(val_dir, target_size=(224, 224), batch_size=64)

base = MobileNetV2(include_top=False, weights="imagenet", input_shape=(224, 224, 3))
base.trainable = False
inputs = layers.Input((224, 224, 3))
x = base(inputs, training=False)
x = layers.GlobalAveragePooling2D()(x)
outputs = layers.Dense(train_flow.num_classes, activation="softmax")(x)
model = Model(inputs, outputs)

model.compile(optimizer=optimizers.Adam(1e-3),
              loss="sparse_categorical_crossentropy",  # expect: activation-loss-mismatch
              metrics=["accuracy"])
model.fit(train_flow, validation_data=val_flow, epochs=10)
