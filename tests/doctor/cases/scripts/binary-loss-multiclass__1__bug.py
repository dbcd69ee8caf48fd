#!/usr/bin/env python
# coding: utf-8

# # Skin lesion classification (HAM10000, 7 classes)

# In[1]:


get_ipython().system('pip install -q tensorflow==2.15')
get_ipython().run_line_magic('matplotlib', 'inline')


# In[2]:


import tensorflow as tf
from tensorflow.keras.preprocessing.image import ImageDataGenerator
from tensorflow.keras.applications.mobilenet import MobileNet, preprocess_input
from tensorflow.keras.layers import Dense, Dropout, GlobalAveragePooling2D
from tensorflow.keras.models import Sequential


# In[3]:


datagen = ImageDataGenerator(preprocessing_function=preprocess_input)
train_batches = datagen.flow_from_directory('base_dir/train_dir', target_size=(224, 224), batch_size=10)
valid_batches = datagen.flow_from_directory('base_dir/val_dir', target_size=(224, 224), batch_size=10, shuffle=False)


# In[4]:


mobile = MobileNet(weights='imagenet', include_top=False, input_shape=(224, 224, 3), pooling='avg')
model = Sequential([
    mobile,
    Dropout(0.25),
    Dense(7, activation='softmax'),  # expect: binary-loss-multiclass
])
model.summary()


# In[5]:


model.compile(optimizer=tf.keras.optimizers.Adam(learning_rate=1e-4),
              loss='binary_crossentropy',  # expect: binary-loss-multiclass
              metrics=['accuracy'])
history = model.fit(train_batches, validation_data=valid_batches, epochs=30)
# Epoch 1/30 ... accuracy: 0.8571 - val_accuracy: 0.8571  (stuck)
