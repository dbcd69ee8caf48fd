import numpy as np
from tensorflow.keras.applications.vgg16 import VGG16, preprocess_input
from tensorflow.keras.layers import Dense, Flatten
from tensorflow.keras.models import Model
from tensorflow.keras.preprocessing import image
from tensorflow.keras.preprocessing.image import ImageDataGenerator

datagen = ImageDataGenerator(preprocessing_function=preprocess_input)
train = datagen.flow_from_directory("signs/train", target_size=(224, 224), batch_size=16)
val = datagen.flow_from_directory("signs/val", target_size=(224, 224), batch_size=16)

vgg = VGG16(include_top=False, weights="imagenet", input_shape=(224, 224, 3))
for layer in vgg.layers:
    layer.trainable = False
x = Flatten()(vgg.output)
prediction = Dense(train.num_classes, activation="softmax")(x)
model = Model(inputs=vgg.input, outputs=prediction)
model.compile(loss="categorical_crossentropy", optimizer="adam", metrics=["accuracy"])
model.fit(train, validation_data=val, epochs=5)

labels = list(train.class_indices)
img = image.load_img("test/stop.jpg", target_size=(224, 224))
x = image.img_to_array(img)
x = np.expand_dims(x, axis=0)
x = preprocess_input(x)
pred = model.predict(x)
print(labels[np.argmax(pred)])
