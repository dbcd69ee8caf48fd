import tensorflow as tf
from tensorflow.keras import layers, models
from keras.callbacks import ModelCheckpoint

model = models.Sequential([
    layers.Dense(256, activation='relu', input_shape=(n_features,)),
    layers.Dropout(0.2),
    layers.Dense(64, activation='relu'),
    layers.Dense(1)
])
model.compile(optimizer='adam', loss='mse')

checkpoint = ModelCheckpoint('weights.best.hdf5', monitor='val_loss',
                             save_best_only=True, mode='min', verbose=1)

history = model.fit(x_train, y_train,
                    batch_size=30000,
                    epochs=45,
                    validation_data=(x_val, y_val),
                    callbacks=[checkpoint],
                    verbose=2)
