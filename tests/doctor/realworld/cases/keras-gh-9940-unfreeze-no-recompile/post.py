# stage 2: the top was trained with the VGG16 part frozen, now open it up
base = model.layers[1]
for l in base.layers:
    l.trainable = True

model.summary()

hist2 = model.fit(train_batches, epochs=20, validation_data=valid_batches)
