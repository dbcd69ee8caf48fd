"""Keras model for the census income sample."""
import tensorflow as tf
from tensorflow.python.keras import layers, models
from tensorflow.python.keras.backend import relu, softmax


def model_fn(input_dim, labels_dim, hidden_units=[100, 70, 50, 20], learning_rate=0.1):
    """Stack of dense layers ending in the output layer."""
    model = models.Sequential()

    for units in hidden_units:
        model.add(layers.Dense(units=units, input_dim=input_dim, activation=relu))
        input_dim = units

    # output layer
    model.add(layers.Dense(labels_dim, activation=softmax))
    compile_model(model, learning_rate)
    return model


def compile_model(model, learning_rate):
    model.compile(loss='binary_crossentropy',
                  optimizer=tf.train.GradientDescentOptimizer(learning_rate=learning_rate),
                  metrics=['accuracy'])
    return model
