import os
from keras import optimizers
from keras.callbacks import ModelCheckpoint, EarlyStopping, ReduceLROnPlateau
from imageatm.components.base_model import BaseModel
from imageatm.handlers.data_generator import TrainDataGenerator, ValDataGenerator
from imageatm.utils.tf_keras import LoggingMetrics, LoggingModels


class Training:
    def __init__(self, image_dir, job_dir, epochs_train_dense=2, epochs_train_all=25,
                 learning_rate_dense=0.001, learning_rate_all=0.0003, batch_size=64,
                 dropout_rate=0.75, base_model_name='MobileNet', loss='categorical_crossentropy'):
        self.image_dir = image_dir
        self.job_dir = job_dir
        self.epochs_train_dense = epochs_train_dense
        self.epochs_train_all = epochs_train_all
        self.learning_rate_dense = learning_rate_dense
        self.learning_rate_all = learning_rate_all
        self.batch_size = batch_size
        self.dropout_rate = dropout_rate
        self.base_model_name = base_model_name
        self.loss = loss
        self.best_model_file = os.path.join(job_dir, 'models', 'model_{epoch:02d}_{val_acc:.3f}.hdf5')

    def _set_callbacks(self):
        checkpoint = ModelCheckpoint(self.best_model_file, monitor='val_acc', verbose=1,
                                     save_best_only=True, save_weights_only=False)
        early_stop = EarlyStopping(monitor='val_acc', patience=5, verbose=1, mode='max')
        reduce_lr = ReduceLROnPlateau(monitor='val_acc', factor=0.3, patience=2, verbose=1, mode='max')
        logging_metrics = LoggingMetrics(logger=self.logger)
        logging_models = LoggingModels(logger=self.logger, job_dir=self.job_dir)
        return [checkpoint, early_stop, reduce_lr, logging_metrics, logging_models]

    def train(self):
        training_generator = TrainDataGenerator(self.samples_train, self.image_dir, self.batch_size,
                                                self.n_classes, self.base_model_name)
        validation_generator = ValDataGenerator(self.samples_val, self.image_dir, self.batch_size,
                                                self.n_classes, self.base_model_name)

        self.model = BaseModel(self.base_model_name, self.n_classes, self.dropout_rate).get_model()

        # train only the new dense head first
        for layer in self.model.layers[:-2]:
            layer.trainable = False
        self.model.compile(optimizer=optimizers.Adam(lr=self.learning_rate_dense),
                           loss=self.loss, metrics=['accuracy'])
        self.model.fit_generator(generator=training_generator, validation_data=validation_generator,
                                 epochs=self.epochs_train_dense, verbose=1,
                                 callbacks=self._set_callbacks(), use_multiprocessing=True, workers=8)

        # then the whole network
        for layer in self.model.layers:
            layer.trainable = True
        self.model.compile(optimizer=optimizers.Adam(lr=self.learning_rate_all),
                           loss=self.loss, metrics=['accuracy'])
        self.model.fit_generator(generator=training_generator, validation_data=validation_generator,
                                 epochs=self.epochs_train_all, verbose=1,
                                 callbacks=self._set_callbacks(), use_multiprocessing=True, workers=8)
