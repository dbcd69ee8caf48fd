import keras


class BatchNormalization(keras.layers.BatchNormalization):
    """BatchNormalization with an extra `freeze` switch for the affine parameters."""
    def __init__(self, freeze, *args, **kwargs):
        self.freeze = freeze
        super(BatchNormalization, self).__init__(*args, **kwargs)

        self.trainable = not self.freeze

    def call(self, *args, **kwargs):
        return super(BatchNormalization, self).call(training=(not self.freeze), *args, **kwargs)

    def get_config(self):
        config = super(BatchNormalization, self).get_config()
        config.update({'freeze': self.freeze})
        return config
