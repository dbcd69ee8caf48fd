from tensorflow.keras.applications.inception_v3 import InceptionV3
from tensorflow.keras.applications.vgg16 import preprocess_input
from tensorflow.keras.preprocessing.image import ImageDataGenerator
from tensorflow.keras import layers, models

gen = ImageDataGenerator(preprocessing_function=preprocess_input, horizontal_flip=True)  # expect: preprocessing-mismatch
test_gen = ImageDataGenerator(preprocessing_function=preprocess_input)
train = gen.flow_from_directory("xray/train", target_size=(299, 299), class_mode="binary")
val = test_gen.flow_from_directory("xray/val", target_size=(299, 299), class_mode="binary")

base = InceptionV3(weights="imagenet", include_top=False, input_shape=(299, 299, 3))  # expect: preprocessing-mismatch
base.trainable = False
model = models.Sequential([base, layers.GlobalAveragePooling2D(), layers.Dense(1, activation="sigmoid")])
model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
model.fit(train, validation_data=val, epochs=5)
