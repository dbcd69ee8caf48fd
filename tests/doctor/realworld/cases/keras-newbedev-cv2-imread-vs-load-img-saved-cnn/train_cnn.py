from keras.layers import Conv2D, Dense, Flatten, MaxPooling2D
from keras.models import Sequential
from keras.preprocessing.image import ImageDataGenerator

clf = Sequential()
clf.add(Conv2D(32, (3, 3), input_shape=(64, 64, 3), activation='relu'))
clf.add(MaxPooling2D(pool_size=(2, 2)))
clf.add(Conv2D(32, (3, 3), activation='relu'))
clf.add(MaxPooling2D(pool_size=(2, 2)))
clf.add(Flatten())
clf.add(Dense(units=128, activation='relu'))
clf.add(Dense(units=1, activation='sigmoid'))
clf.compile(optimizer='adam', loss='binary_crossentropy', metrics=['accuracy'])

train_gen = ImageDataGenerator(rescale=1.0 / 255, shear_range=0.2, zoom_range=0.2, horizontal_flip=True)
val_gen = ImageDataGenerator(rescale=1.0 / 255)
train_flow = train_gen.flow_from_directory('pets/train', target_size=(64, 64), batch_size=32, class_mode='binary')
val_flow = val_gen.flow_from_directory('pets/val', target_size=(64, 64), batch_size=32, class_mode='binary')
clf.fit_generator(train_flow, steps_per_epoch=250, epochs=20, validation_data=val_flow, validation_steps=60)
clf.save('pets_cnn.h5')
