from tensorflow.keras.preprocessing.image import ImageDataGenerator
from tensorflow.keras.applications.densenet import DenseNet121, preprocess_input
from tensorflow.keras import layers, models

base_dir = "/content/drive/MyDrive/covid"
train_dir = base_dir + "/train"
test_dir = base_dir + "/test"

train_datagen = ImageDataGenerator(preprocessing_function=preprocess_input, horizontal_flip=True)
val_datagen = ImageDataGenerator(preprocessing_function=preprocess_input)
train_generator = train_datagen.flow_from_directory(train_dir, target_size=(224, 224),  # expect: data-leakage
                                                    batch_size=32, class_mode="categorical")
validation_generator = val_datagen.flow_from_directory(train_dir, target_size=(224, 224),  # expect: data-leakage
                                                       batch_size=32, class_mode="categorical")

base = DenseNet121(weights="imagenet", include_top=False, input_shape=(224, 224, 3))
base.trainable = False
model = models.Sequential([base, layers.GlobalAveragePooling2D(), layers.Dense(3, activation="softmax")])
model.compile(optimizer="adam", loss="categorical_crossentropy", metrics=["accuracy"])
model.fit(train_generator, validation_data=validation_generator, epochs=20)
# val_accuracy 0.99 but the model fails on new patients
