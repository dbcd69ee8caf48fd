import tensorflow
import tensorflow.keras.callbacks

class SetTrainable(tensorflow.keras.callbacks.Callback):
    '''
    Changes whether a given layer is trainable during training.

    This is useful for transfer learning, to do an initial training and then allow fine-tuning.
    '''
    def __init__(self, layer_name: str, epoch: int, trainable: bool=True, learning_rate: float=None):
        super().__init__()
        self._layer_name = layer_name
        self._epoch = epoch - 1
        self._make_trainable = trainable
        self._lr = learning_rate

    def on_epoch_begin(self, epoch, logs=None):
        if epoch == self._epoch:
            self.model.get_layer(self._layer_name).trainable = self._make_trainable
            if self._lr is not None:
                tensorflow.keras.backend.set_value(self.model.optimizer.lr, self._lr)
            print('Layer', self._layer_name, 'trainable:', self._make_trainable)


def train(model_fn, dataset, training_spec, pretrained_encoder):
    model = model_fn()
    encoder = model.get_layer('encoder')
    encoder.set_weights(pretrained_encoder.get_weights())
    encoder.trainable = False

    model.compile(optimizer=training_spec.optimizer, loss=training_spec.loss,
                  metrics=training_spec.metrics)

    callbacks = [SetTrainable('encoder', 5, trainable=True, learning_rate=1e-5)]
    history = model.fit(dataset, epochs=training_spec.epochs, callbacks=callbacks,
                        validation_data=training_spec.validation, verbose=1)
    return model, history
