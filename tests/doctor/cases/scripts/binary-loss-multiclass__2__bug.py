from keras.applications.inception_v3 import InceptionV3, preprocess_input
from keras.preprocessing.image import ImageDataGenerator
from keras.models import Model
from keras.layers import Dense, GlobalAveragePooling2D
from keras.optimizers import SGD

num_classes = 5
img_width, img_height = 299, 299

train_datagen = ImageDataGenerator(preprocessing_function=preprocess_input,
                                   horizontal_flip=True, zoom_range=0.2)
test_datagen = ImageDataGenerator(preprocessing_function=preprocess_input)

train_generator = train_datagen.flow_from_directory(
    'flowers/train', target_size=(img_width, img_height), batch_size=16,
    class_mode='categorical')
validation_generator = test_datagen.flow_from_directory(
    'flowers/validation', target_size=(img_width, img_height), batch_size=16,
    class_mode='categorical')

base_model = InceptionV3(weights='imagenet', include_top=False)
x = base_model.output
x = GlobalAveragePooling2D()(x)
x = Dense(1024, activation='relu')(x)
predictions = Dense(num_classes, activation='sigmoid')(x)  # expect: binary-loss-multiclass
model = Model(inputs=base_model.input, outputs=predictions)

for layer in base_model.layers:
    layer.trainable = False

model.compile(optimizer='rmsprop', loss='binary_crossentropy', metrics=['accuracy'])  # expect: binary-loss-multiclass

model.fit_generator(train_generator, steps_per_epoch=200, epochs=10,
                    validation_data=validation_generator, validation_steps=50)
# accuracy sits at 0.80 = 4/5 from the first epoch
