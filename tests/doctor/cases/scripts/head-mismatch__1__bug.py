# Fine-tuning the top layers of a pre-trained network (after the Keras blog post, 2016)
from keras import applications, optimizers
from keras.models import Sequential, Model
from keras.layers import Dropout, Flatten, Dense
from keras.preprocessing.image import ImageDataGenerator
import numpy as np

top_model_weights_path = 'bottleneck_fc_model.h5'
img_width, img_height = 150, 150
train_data_dir = 'data/train'
validation_data_dir = 'data/validation'

# --- step 1: train a small fully-connected model on bottleneck features
train_data = np.load(open('bottleneck_features_train.npy', 'rb'))
train_labels = np.array([0] * 1000 + [1] * 1000)
validation_data = np.load(open('bottleneck_features_validation.npy', 'rb'))
validation_labels = np.array([0] * 400 + [1] * 400)

model = Sequential()
model.add(Flatten(input_shape=train_data.shape[1:]))
model.add(Dense(256, activation='relu'))
model.add(Dropout(0.5))
model.add(Dense(1, activation='sigmoid'))
model.compile(optimizer='rmsprop', loss='binary_crossentropy', metrics=['accuracy'])
model.fit(train_data, train_labels, epochs=50, batch_size=16,
          validation_data=(validation_data, validation_labels))
model.save_weights(top_model_weights_path)  # expect: head-mismatch

# --- step 2: fine-tune the last convolutional block with the trained head on top
base_model = applications.VGG16(weights='imagenet', include_top=False, input_shape=(150, 150, 3))
top_model = Sequential()
top_model.add(Flatten(input_shape=base_model.output_shape[1:]))
top_model.add(Dense(512, activation='relu'))
top_model.add(Dropout(0.5))
top_model.add(Dense(1, activation='sigmoid'))
top_model.load_weights(top_model_weights_path)  # expect: head-mismatch
model = Model(inputs=base_model.input, outputs=top_model(base_model.output))
for layer in model.layers[:15]:
    layer.trainable = False
model.compile(loss='binary_crossentropy', optimizer=optimizers.SGD(lr=1e-4, momentum=0.9),
              metrics=['accuracy'])
