from tensorflow.keras.applications import DenseNet121
from tensorflow.keras.applications.densenet import preprocess_input
from tensorflow.keras.layers import Dense, Dropout, GlobalAveragePooling2D
from tensorflow.keras.models import Model
from tensorflow.keras.preprocessing.image import ImageDataGenerator

CLASSES = ["normal", "pneumonia", "covid"]
train_aug = ImageDataGenerator(preprocessing_function=preprocess_input, rotation_range=10, zoom_range=0.1)
val_aug = ImageDataGenerator(preprocessing_function=preprocess_input)
train_gen = train_aug.flow_from_directory("xray/train", target_size=(224, 224), batch_size=16,
                                          classes=CLASSES, class_mode="categorical")
val_gen = val_aug.flow_from_directory("xray/val", target_size=(224, 224), batch_size=16,
                                      classes=CLASSES, class_mode="categorical", shuffle=False)

base = DenseNet121(include_top=False, weights="imagenet", input_shape=(224, 224, 3))
base.trainable = False
x = Dropout(0.3)(GlobalAveragePooling2D()(base.output))
model = Model(base.input, Dense(len(CLASSES), activation="softmax")(x))
model.compile(optimizer="adam", loss="categorical_crossentropy", metrics=["accuracy"])
model.fit(train_gen, validation_data=val_gen, epochs=15)
