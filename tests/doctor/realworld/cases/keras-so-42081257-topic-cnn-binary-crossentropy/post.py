model.add(embedding_layer)
model.add(Dropout(0.25))
# conv part
model.add(Conv1D(nb_filter=32, filter_length=4,
                 border_mode="valid", activation='relu'))
model.add(MaxPooling1D(pool_length=2))
# fully connected part
model.add(Flatten())
model.add(Dense(256))
model.add(Dropout(0.25))
model.add(Activation('relu'))
# one output per topic
model.add(Dense(len(class_id_index)))
model.add(Activation('softmax'))

# version A
model.compile(loss='categorical_crossentropy', optimizer='adam', metrics=['accuracy'])

# version B
model.compile(loss='binary_crossentropy', optimizer='adam', metrics=['accuracy'])
