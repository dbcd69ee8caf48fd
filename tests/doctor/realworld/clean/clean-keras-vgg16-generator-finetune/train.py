"""Fine-tune the last convolutional block of VGG16 with ImageDataGenerator: augmentation on the
training generator only, the same preprocess_input on both."""
from tensorflow.keras.applications import VGG16
from tensorflow.keras.applications.vgg16 import preprocess_input
from tensorflow.keras.callbacks import ModelCheckpoint
from tensorflow.keras.layers import Dense, Dropout, Flatten
from tensorflow.keras.models import Model
from tensorflow.keras.optimizers import SGD
from tensorflow.keras.preprocessing.image import ImageDataGenerator

IMG_SIZE = (224, 224)
BATCH_SIZE = 32

train_datagen = ImageDataGenerator(
    preprocessing_function=preprocess_input,
    rotation_range=20,
    width_shift_range=0.1,
    height_shift_range=0.1,
    zoom_range=0.2,
    horizontal_flip=True,
)
val_datagen = ImageDataGenerator(preprocessing_function=preprocess_input)

train_generator = train_datagen.flow_from_directory(
    "data/train", target_size=IMG_SIZE, batch_size=BATCH_SIZE, class_mode="categorical"
)
validation_generator = val_datagen.flow_from_directory(
    "data/validation", target_size=IMG_SIZE, batch_size=BATCH_SIZE, class_mode="categorical"
)
num_classes = train_generator.num_classes

base = VGG16(weights="imagenet", include_top=False, input_shape=IMG_SIZE + (3,))
for layer in base.layers[:15]:
    layer.trainable = False

x = Flatten()(base.output)
x = Dense(256, activation="relu")(x)
x = Dropout(0.5)(x)
predictions = Dense(num_classes, activation="softmax")(x)
model = Model(inputs=base.input, outputs=predictions)

model.compile(
    loss="categorical_crossentropy",
    optimizer=SGD(learning_rate=1e-4, momentum=0.9),
    metrics=["accuracy"],
)
checkpoint = ModelCheckpoint(
    "vgg16_finetuned.h5", monitor="val_accuracy", save_best_only=True, mode="max", verbose=1
)
model.fit(
    train_generator,
    epochs=30,
    validation_data=validation_generator,
    callbacks=[checkpoint],
)
