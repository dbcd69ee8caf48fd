import resnet

model = resnet.ResnetBuilder.build_resnet_18((3, 224, 224), 1)
model.compile(loss="binary_crossentropy", optimizer="sgd", metrics=["accuracy"])
model.fit(X_train, y_train, batch_size=32, epochs=20, validation_data=(X_val, y_val))
