import numpy as np
from keras import applications
from keras.preprocessing.image import ImageDataGenerator
from keras.models import Model
from keras.layers import Dense, GlobalAveragePooling2D
from keras.optimizers import SGD

train_dir = 'data/train'
batch_size = 16

# bottleneck features: computed once, from clean images
datagen = ImageDataGenerator(rescale=1. / 255)
generator = datagen.flow_from_directory(train_dir, target_size=(150, 150), batch_size=batch_size,
                                        class_mode=None, shuffle=False)
base_model = applications.VGG16(include_top=False, weights='imagenet', input_shape=(150, 150, 3))
features = base_model.predict_generator(generator, 2000 // batch_size)  # expect: augmentation-phase
np.save('bottleneck_features_train.npy', features)

# ... the head is trained on `features` in another notebook ...

# fine-tuning: augmented images
train_datagen = ImageDataGenerator(rescale=1. / 255, shear_range=0.2, zoom_range=0.2,  # expect: augmentation-phase
                                   horizontal_flip=True)
train_generator = train_datagen.flow_from_directory(train_dir, target_size=(150, 150),
                                                    batch_size=batch_size, class_mode='binary')
x = GlobalAveragePooling2D()(base_model.output)
out = Dense(1, activation='sigmoid')(x)
model = Model(base_model.input, out)
for layer in model.layers[:15]:
    layer.trainable = False
model.compile(loss='binary_crossentropy', optimizer=SGD(lr=1e-4, momentum=0.9), metrics=['accuracy'])
model.fit_generator(train_generator, steps_per_epoch=2000 // batch_size, epochs=50)
