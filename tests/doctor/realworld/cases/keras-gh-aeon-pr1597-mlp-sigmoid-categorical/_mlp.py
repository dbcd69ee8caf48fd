"""Multi Layer Perceptron (MLP) classifier."""

import gc
import os
import time
from copy import deepcopy

from sklearn.utils import check_random_state

from aeon.classification.deep_learning.base import BaseDeepClassifier
from aeon.networks import MLPNetwork


class MLPClassifier(BaseDeepClassifier):
    """Multi Layer Perceptron for time series classification."""

    def __init__(self, n_epochs=2000, batch_size=16, callbacks=None, verbose=False,
                 loss="categorical_crossentropy", metrics="accuracy", random_state=None,
                 activation="sigmoid", use_bias=True, optimizer=None, file_path="./",
                 save_best_model=False, best_file_name="best_model"):
        self.callbacks = callbacks
        self.n_epochs = n_epochs
        self.verbose = verbose
        self.loss = loss
        self.metrics = metrics
        self.activation = activation
        self.use_bias = use_bias
        self.optimizer = optimizer
        self.random_state = random_state
        self.file_path = file_path
        self.save_best_model = save_best_model
        self.best_file_name = best_file_name
        self.history = None
        super().__init__(batch_size=batch_size, random_state=random_state)
        self._network = MLPNetwork()

    def build_model(self, input_shape, n_classes, **kwargs):
        import numpy as np
        import tensorflow as tf

        rng = check_random_state(self.random_state)
        self.random_state_ = rng.randint(0, np.iinfo(np.int32).max)
        tf.keras.utils.set_random_seed(self.random_state_)
        input_layer, output_layer = self._network.build_network(input_shape, **kwargs)

        output_layer = tf.keras.layers.Dense(
            units=n_classes, activation=self.activation, use_bias=self.use_bias
        )(output_layer)

        self.optimizer_ = (
            tf.keras.optimizers.Adadelta() if self.optimizer is None else self.optimizer
        )

        model = tf.keras.models.Model(inputs=input_layer, outputs=output_layer)
        model.compile(loss=self.loss, optimizer=self.optimizer_, metrics=self.metrics)
        return model

    def _fit(self, X, y):
        y_onehot = self.convert_y_to_keras(y)
        X = X.transpose(0, 2, 1)
        self.input_shape = X.shape[1:]
        self.training_model_ = self.build_model(self.input_shape, self.n_classes_)
        self.history = self.training_model_.fit(
            X, y_onehot, batch_size=self.batch_size, epochs=self.n_epochs,
            verbose=self.verbose, callbacks=self.callbacks)
        return self
