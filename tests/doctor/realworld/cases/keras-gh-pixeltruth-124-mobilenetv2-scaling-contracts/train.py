import tensorflow as tf
from tensorflow.keras.applications import MobileNetV2
from tensorflow.keras.applications.mobilenet_v2 import preprocess_input
from tensorflow.keras.preprocessing.image import ImageDataGenerator
from tensorflow.keras import layers, models

IMG_SIZE = (224, 224)
BATCH = 32

datagen = ImageDataGenerator(preprocessing_function=preprocess_input,
                             validation_split=0.2,
                             horizontal_flip=True)
train_gen = datagen.flow_from_directory('dataset', target_size=IMG_SIZE, batch_size=BATCH,
                                        class_mode='binary', subset='training')
val_gen = datagen.flow_from_directory('dataset', target_size=IMG_SIZE, batch_size=BATCH,
                                      class_mode='binary', subset='validation')

base = MobileNetV2(weights='imagenet', include_top=False, input_shape=IMG_SIZE + (3,))
base.trainable = False
model = models.Sequential([
    base,
    layers.GlobalAveragePooling2D(),
    layers.Dropout(0.3),
    layers.Dense(1, activation='sigmoid'),
])
model.compile(optimizer='adam', loss='binary_crossentropy', metrics=['accuracy'])
model.fit(train_gen, validation_data=val_gen, epochs=10)
model.save('models/pixeltruth_model.h5')
