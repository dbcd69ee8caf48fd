from tensorflow.keras.preprocessing.image import ImageDataGenerator
from tensorflow.keras.applications import MobileNetV2
from tensorflow.keras.applications.mobilenet_v2 import preprocess_input
from tensorflow.keras import layers, models, optimizers

train_datagen = ImageDataGenerator(preprocessing_function=preprocess_input,  # expect: train-eval-preprocessing-mismatch
                                   rotation_range=30, width_shift_range=0.1,
                                   height_shift_range=0.1, horizontal_flip=True)
test_datagen = ImageDataGenerator(rescale=1./255)  # expect: train-eval-preprocessing-mismatch

train_generator = train_datagen.flow_from_directory("garbage/train", target_size=(224, 224),
                                                    batch_size=32, class_mode="categorical")
validation_generator = test_datagen.flow_from_directory("garbage/val", target_size=(224, 224),
                                                        batch_size=32, class_mode="categorical")

base = MobileNetV2(input_shape=(224, 224, 3), include_top=False, weights="imagenet")
base.trainable = False
model = models.Sequential([base, layers.GlobalAveragePooling2D(), layers.Dense(6, activation="softmax")])
model.compile(optimizer=optimizers.Adam(1e-3), loss="categorical_crossentropy", metrics=["accuracy"])
history = model.fit(train_generator, epochs=30, validation_data=validation_generator)
# accuracy 0.93, val_accuracy 0.17 (= 1/6)
