datagen = ImageDataGenerator(rescale=1./255,
                             rotation_range=30,
                             width_shift_range=0.2,
                             height_shift_range=0.2,
                             shear_range=0.2,
                             zoom_range=0.3,
                             horizontal_flip=True,
                             validation_split=0.2)

train_it = datagen.flow_from_directory(DATA_DIR,
                                       target_size=(224, 224),
                                       batch_size=32,
                                       class_mode='categorical',
                                       subset='training')

valid_it = datagen.flow_from_directory(DATA_DIR,
                                       target_size=(224, 224),
                                       batch_size=32,
                                       class_mode='categorical',
                                       subset='validation')

base = MobileNetV2(include_top=False, weights='imagenet', input_shape=(224, 224, 3), pooling='avg')
base.trainable = False
model = Sequential([base, Dense(train_it.num_classes, activation='softmax')])
model.compile(optimizer=Adam(1e-3), loss='categorical_crossentropy', metrics=['accuracy'])

model.fit_generator(train_it,
                    steps_per_epoch=len(train_it),
                    validation_data=valid_it,
                    validation_steps=len(valid_it),
                    epochs=15)
