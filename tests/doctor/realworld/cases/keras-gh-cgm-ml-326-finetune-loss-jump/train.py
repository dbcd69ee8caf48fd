import tensorflow as tf
from tensorflow.keras import layers, models

from config import CONFIG
from preprocessing import create_multiartifact_dataset

train_ds, val_ds = create_multiartifact_dataset(CONFIG)

# pretrained single-artifact network from an earlier run
base_model = tf.keras.models.load_model(CONFIG.PRETRAINED_MODEL_PATH)
base_model.trainable = False

inputs = layers.Input(shape=(CONFIG.N_ARTIFACTS, CONFIG.IMAGE_TARGET_HEIGHT, CONFIG.IMAGE_TARGET_WIDTH, 1))
features = layers.TimeDistributed(base_model)(inputs)
features = layers.GlobalAveragePooling1D()(features)
x = layers.Dense(128, activation='relu')(features)
outputs = layers.Dense(1, activation='linear')(x)
model = models.Model(inputs, outputs)

model.compile(optimizer=tf.keras.optimizers.Nadam(learning_rate=CONFIG.LEARNING_RATE),
              loss='mse', metrics=['mae'])
model.fit(train_ds, validation_data=val_ds, epochs=CONFIG.EPOCHS_HEAD)

# fine-tuning: open the whole base network
base_model.trainable = True
model.compile(optimizer=tf.keras.optimizers.Nadam(learning_rate=CONFIG.LEARNING_RATE),
              loss='mse', metrics=['mae'])
model.fit(train_ds, validation_data=val_ds, epochs=CONFIG.EPOCHS_TUNE)
model.save('outputs/best_model.h5')
