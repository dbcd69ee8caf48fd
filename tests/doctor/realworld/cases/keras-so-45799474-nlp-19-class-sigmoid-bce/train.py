nb_classes = 19

model1 = Sequential()
model1.add(Embedding(nb_words, EMBEDDING_DIM, weights=[embedding_matrix],
                     input_length=MAX_SEQUENCE_LENGTH, trainable=False))
model1.add(LSTM(num_lstm, dropout=rate_drop_lstm, recurrent_dropout=rate_drop_lstm))
model1.add(Dropout(rate_drop_dense))
model1.add(BatchNormalization())
model1.add(Dense(num_dense, activation=act))
model1.add(Dropout(rate_drop_dense))
model1.add(BatchNormalization())
model1.add(Dense(nb_classes, activation='sigmoid'))

model1.compile(loss='binary_crossentropy', optimizer='adam', metrics=['accuracy'])

# labels -> one hot
ytrain_enc = np_utils.to_categorical(train_labels)
yval_enc = np_utils.to_categorical(val_labels)
ytestenc = np_utils.to_categorical(test_labels)

model1.fit(train_data, ytrain_enc, validation_data=(val_data, yval_enc),
           epochs=200, batch_size=384, shuffle=True, verbose=1)

model1.evaluate(test_data, y=ytestenc, batch_size=384, verbose=1)

# class vector for the confusion matrix
PREDICTED_CLASSES = model1.predict_classes(test_data, batch_size=384, verbose=1)
temp = sum(test_labels == PREDICTED_CLASSES)
temp / len(test_labels)
