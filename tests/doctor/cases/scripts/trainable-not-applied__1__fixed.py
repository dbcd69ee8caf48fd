from tensorflow.keras.applications.inception_v3 import InceptionV3, preprocess_input
from tensorflow.keras.preprocessing.image import ImageDataGenerator
from tensorflow.keras.models import Model
from tensorflow.keras.layers import Dense, GlobalAveragePooling2D
from tensorflow.keras.optimizers import SGD

datagen = ImageDataGenerator(preprocessing_function=preprocess_input)
train_generator = datagen.flow_from_directory("cars/train", target_size=(299, 299))
validation_generator = datagen.flow_from_directory("cars/val", target_size=(299, 299))

base_model = InceptionV3(weights="imagenet", include_top=False)
x = GlobalAveragePooling2D()(base_model.output)
x = Dense(1024, activation="relu")(x)
predictions = Dense(196, activation="softmax")(x)
model = Model(inputs=base_model.input, outputs=predictions)

for layer in base_model.layers:
    layer.trainable = False
model.compile(optimizer="rmsprop", loss="categorical_crossentropy", metrics=["accuracy"])
model.fit(train_generator, validation_data=validation_generator, epochs=3)

# fine-tune the top 2 inception blocks
for layer in model.layers[:249]:
    layer.trainable = False
for layer in model.layers[249:]:
    layer.trainable = True
model.compile(optimizer=SGD(learning_rate=1e-4, momentum=0.9), loss="categorical_crossentropy",
              metrics=["accuracy"])
model.fit(train_generator, validation_data=validation_generator, epochs=10)
