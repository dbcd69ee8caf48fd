# In[3]:
train_ds = tf.keras.utils.image_dataset_from_directory(
    'plant_leaves/train', labels='inferred', label_mode='categorical',
    color_mode='rgb', batch_size=32, image_size=(256, 256), shuffle=True)
val_ds = tf.keras.utils.image_dataset_from_directory(
    'plant_leaves/valid', labels='inferred', label_mode='categorical',
    color_mode='rgb', batch_size=32, image_size=(256, 256), shuffle=True)

# In[5]:
from keras.layers import Dense, Conv2D, MaxPool2D, Flatten
from keras.models import Sequential

model = Sequential()
model.add(Conv2D(filters=32, kernel_size=3, padding='same', activation='relu', input_shape=[128, 128, 3]))
model.add(Conv2D(filters=32, kernel_size=3, activation='relu'))
model.add(MaxPool2D(pool_size=2, strides=2))
model.add(Conv2D(filters=64, kernel_size=3, padding='same', activation='relu', input_shape=[128, 128, 3]))
model.add(Conv2D(filters=64, kernel_size=3, activation='relu'))
model.add(MaxPool2D(pool_size=2, strides=2))
model.add(Flatten())
model.add(Dense(units=512, activation='relu'))
model.add(Dense(units=38, activation='softmax'))
model.compile(optimizer='adam', loss='categorical_crossentropy', metrics=['accuracy'])

# In[6]:
hist = model.fit(x=train_ds, validation_data=val_ds, epochs=10)
