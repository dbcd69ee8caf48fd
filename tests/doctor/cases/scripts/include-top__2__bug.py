# Keras 2.2 era script: dog breeds with VGG16
from keras.applications import VGG16
from keras.applications.vgg16 import preprocess_input
from keras.preprocessing.image import ImageDataGenerator
from keras.layers import Dense, Dropout
from keras.models import Model
from keras.optimizers import Adam

train_datagen = ImageDataGenerator(preprocessing_function=preprocess_input, rotation_range=20)
valid_datagen = ImageDataGenerator(preprocessing_function=preprocess_input)
train_generator = train_datagen.flow_from_directory('dogs/train', target_size=(224, 224), batch_size=32)
valid_generator = valid_datagen.flow_from_directory('dogs/valid', target_size=(224, 224), batch_size=32)

vgg = VGG16(weights='imagenet')  # expect: include-top
for layer in vgg.layers:
    layer.trainable = False

x = vgg.output
x = Dense(512, activation='relu')(x)  # expect: include-top
x = Dropout(0.5)(x)
out = Dense(120, activation='softmax')(x)
model = Model(inputs=vgg.input, outputs=out)

model.compile(optimizer=Adam(lr=1e-3), loss='categorical_crossentropy', metrics=['accuracy'])
model.fit_generator(train_generator, epochs=20, validation_data=valid_generator)
