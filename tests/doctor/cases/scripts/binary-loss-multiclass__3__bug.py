model.add(Flatten())
model.add(Dense(256, activation='relu'))
model.add(Dense(num_classes, activation='sigmoid'))
model.compile(loss='binary_crossentropy', optimizer='rmsprop', metrics=['accuracy'])  # expect: binary-loss-multiclass

train_generator = train_datagen.flow_from_directory(
    train_dir, target_size=(150, 150), batch_size=32, class_mode='categorical')
model.fit_generator(train_generator, steps_per_epoch=100, epochs=50)
