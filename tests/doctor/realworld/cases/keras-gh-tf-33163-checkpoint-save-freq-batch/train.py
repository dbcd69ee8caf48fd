import tensorflow as tf
from tensorflow.keras.callbacks import ModelCheckpoint

model.compile(optimizer=tf.keras.optimizers.Adam(1e-4),
              loss='categorical_crossentropy',
              metrics=['acc'])

checkpoint = ModelCheckpoint('best_model.h5',
                             monitor='val_acc',
                             mode='max',
                             save_best_only=True,
                             save_freq=1,
                             verbose=1)

history = model.fit(train_data,
                    epochs=50,
                    validation_data=val_data,
                    callbacks=[checkpoint])
