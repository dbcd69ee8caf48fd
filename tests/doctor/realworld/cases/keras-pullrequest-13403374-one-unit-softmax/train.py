from keras.applications import VGG16
from keras.layers import Dense, GlobalAveragePooling2D
from keras.models import Model
from keras.preprocessing.image import ImageDataGenerator
from keras.applications.vgg16 import preprocess_input
from keras.optimizers import Adam

base_model = VGG16(weights='imagenet', include_top=False)  # drop the 1000-class top

x = base_model.output
x = GlobalAveragePooling2D()(x)
x = Dense(1024, activation='relu')(x)
x = Dense(1024, activation='relu')(x)
x = Dense(512, activation='relu')(x)
preds = Dense(1, activation='softmax')(x)  # output layer

vgg = Model(inputs=base_model.input, outputs=preds)

for layer in vgg.layers[:19]:
    layer.trainable = False
for layer in vgg.layers[19:]:
    layer.trainable = True

train_datagen = ImageDataGenerator(preprocessing_function=preprocess_input)
train_generator = train_datagen.flow_from_directory('./train/',
                                                    target_size=(224, 224),
                                                    color_mode='rgb',
                                                    batch_size=32,
                                                    class_mode='binary',
                                                    shuffle=True)

vgg.compile(optimizer=Adam(), loss='binary_crossentropy', metrics=['accuracy'])

step_size_train = train_generator.n // train_generator.batch_size
vgg.fit_generator(generator=train_generator,
                  steps_per_epoch=step_size_train,
                  epochs=5)

print(vgg.predict_generator(train_generator, steps=2))
