from sklearn.base import BaseEstimator, ClassifierMixin
import tensorflow as tf
import numpy as np


class CNNClassifier(BaseEstimator, ClassifierMixin):
    def __init__(self, context_window=3, learning_rate=0.001, learning_rate_decay=1,
                 batch_size=32, nb_epochs=5, hidden_size=100, nb_layers=2, dropout=0.2,
                 l2=1e-6, dense_size=32, multilabel=False, threshold=0.5):
        self.context_window = context_window
        self.learning_rate = learning_rate
        self.learning_rate_decay = learning_rate_decay
        self.batch_size = batch_size
        self.nb_epochs = nb_epochs
        self.hidden_size = hidden_size
        self.nb_layers = nb_layers
        self.dropout = dropout
        self.l2 = l2
        self.dense_size = dense_size
        self.multilabel = multilabel
        self.threshold = threshold

    def fit(self, X, Y):
        def residual_conv_block(x1):
            filters = x1.shape[2]
            x2 = tf.keras.layers.Conv1D(filters, self.context_window, padding='same', activation='relu',
                                        kernel_regularizer=tf.keras.regularizers.l2(self.l2))(x1)
            x2 = tf.keras.layers.Dropout(self.dropout)(x2)
            return tf.keras.layers.add([x2, x1])

        sequence_length = X.shape[1]
        nb_outputs = Y.shape[1] if len(Y.shape) > 1 else 1
        output_activation = 'sigmoid'

        inputs = tf.keras.layers.Input(shape=(sequence_length,))
        x = tf.keras.layers.Embedding(self.vocab_size, self.hidden_size)(inputs)
        for _ in range(self.nb_layers):
            x = residual_conv_block(x)
        x = tf.keras.layers.GlobalMaxPooling1D()(x)
        x = tf.keras.layers.Dense(self.dense_size, activation='relu')(x)
        out = tf.keras.layers.Dense(nb_outputs, activation=output_activation)(x)

        self.model = tf.keras.Model(inputs=inputs, outputs=out)
        self.model.compile(loss='binary_crossentropy',
                           optimizer=tf.keras.optimizers.Adam(self.learning_rate),
                           metrics=['accuracy'])
        self.model.fit(X, Y, epochs=self.nb_epochs, batch_size=self.batch_size)
        return self

    def predict(self, X):
        return self.model(X).numpy() > self.threshold
