model = tf.keras.applications.VGG16()
model.layers.pop()

for layer in model.layers:
    layer.trainable = False

hidden = Dense(120, activation='relu')(model.layers[-1].output)
out = Dense(5, activation='softmax')(hidden)
new_model = Model(model.input, out)
new_model.compile(optimizer='adam', loss='categorical_crossentropy', metrics=['accuracy'])
new_model.summary()
