# Two-phase recipe: bottleneck features, then fine-tuning (Keras blog style)
import numpy as np
from tensorflow.keras import applications, optimizers
from tensorflow.keras.models import Sequential, Model
from tensorflow.keras.layers import Dropout, Flatten, Dense, GlobalAveragePooling2D
from tensorflow.keras.preprocessing.image import ImageDataGenerator

train_data_dir = "data/train"
validation_data_dir = "data/validation"
nb_train_samples, nb_validation_samples = 2000, 800
batch_size = 16

# phase 1: bottleneck features at 150x150
datagen = ImageDataGenerator(rescale=1. / 255)
generator = datagen.flow_from_directory(train_data_dir, target_size=(150, 150),  # expect: input-size-mismatch
                                        batch_size=batch_size, class_mode=None, shuffle=False)
vgg_features = applications.VGG16(include_top=False, weights="imagenet", input_shape=(150, 150, 3))  # expect: input-size-mismatch
bottleneck_features_train = vgg_features.predict(generator, steps=nb_train_samples // batch_size)
train_labels = np.array([0] * (nb_train_samples // 2) + [1] * (nb_train_samples // 2))

top_model = Sequential()
top_model.add(GlobalAveragePooling2D(input_shape=bottleneck_features_train.shape[1:]))
top_model.add(Dense(256, activation="relu"))
top_model.add(Dropout(0.5))
top_model.add(Dense(1, activation="sigmoid"))
top_model.compile(optimizer="rmsprop", loss="binary_crossentropy", metrics=["accuracy"])
top_model.fit(bottleneck_features_train, train_labels, epochs=50, batch_size=batch_size)
top_model.save_weights("bottleneck_fc_model.h5")

# phase 2: fine-tune at 224x224
base = applications.VGG16(weights="imagenet", include_top=False, input_shape=(224, 224, 3))  # expect: input-size-mismatch
x = GlobalAveragePooling2D()(base.output)
x = Dense(256, activation="relu")(x)
x = Dropout(0.5)(x)
out = Dense(1, activation="sigmoid")(x)
model = Model(base.input, out)
for layer in model.layers[:15]:
    layer.trainable = False
model.compile(loss="binary_crossentropy", optimizer=optimizers.SGD(learning_rate=1e-4, momentum=0.9),
              metrics=["accuracy"])
train_datagen = ImageDataGenerator(rescale=1. / 255)
train_generator = train_datagen.flow_from_directory(train_data_dir, target_size=(224, 224),  # expect: input-size-mismatch
                                                    batch_size=batch_size, class_mode="binary")
model.fit(train_generator, epochs=10)
