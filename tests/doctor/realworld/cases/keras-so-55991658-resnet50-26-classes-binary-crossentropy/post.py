from keras.applications.resnet50 import ResNet50
from keras.preprocessing.image import ImageDataGenerator
from keras.models import Model
from keras.layers import Dense, Flatten, Dropout
from keras.optimizers import SGD

train_dir = 'dataset/train'
valid_dir = 'dataset/valid'

datagen = ImageDataGenerator(rescale=1./255)
train_gen = datagen.flow_from_directory(train_dir, target_size=(224, 224), batch_size=64,
                                        class_mode='categorical')
valid_gen = datagen.flow_from_directory(valid_dir, target_size=(224, 224), batch_size=64,
                                        class_mode='categorical')

base = ResNet50(weights='imagenet', include_top=False, input_shape=(224, 224, 3))
x = base.output
x = Flatten()(x)
x = Dense(80, activation='relu')(x)
x = Dropout(0.5)(x)
out = Dense(26, activation='sigmoid')(x)
model = Model(inputs=base.input, outputs=out)

model.compile(optimizer=SGD(lr=0.001, momentum=0.9), loss='binary_crossentropy',
              metrics=['accuracy'])
model.fit_generator(train_gen, steps_per_epoch=len(train_gen), epochs=8,
                    validation_data=valid_gen, validation_steps=len(valid_gen))
