import numpy as np
import pandas as pd
from keras.applications.mobilenet import MobileNet
from keras.layers import GlobalAveragePooling2D, Dense, Dropout
from keras.models import Model
from keras.optimizers import Adam
from keras.callbacks import ModelCheckpoint

from utils.keras_utils import balanced_generator

INPUT_DIM, CROP_DIM, BATCH = 250, 224, 32

train_df = pd.read_csv('train_patches.csv')
val_df = pd.read_csv('val_patches.csv')

train_gen = balanced_generator('patches/train', train_df['fname'].values, train_df['label'].values,
                               INPUT_DIM, CROP_DIM, BATCH, data_augmentation=True)
val_gen = balanced_generator('patches/val', val_df['fname'].values, val_df['label'].values,
                             INPUT_DIM, CROP_DIM, BATCH, data_augmentation=False)

base = MobileNet(weights='imagenet', include_top=False, input_shape=(CROP_DIM, CROP_DIM, 3))
x = GlobalAveragePooling2D()(base.output)
x = Dropout(0.5)(x)
out = Dense(4, activation='softmax')(x)
model = Model(base.input, out)

model.compile(optimizer=Adam(lr=1e-4), loss='categorical_crossentropy', metrics=['accuracy'])
model.fit_generator(train_gen, steps_per_epoch=len(train_df) // BATCH, epochs=50,
                    validation_data=val_gen, validation_steps=len(val_df) // BATCH,
                    callbacks=[ModelCheckpoint('model_weights/MobileNet_Gleason_weights.h5',
                                               monitor='val_loss', save_best_only=True)])
