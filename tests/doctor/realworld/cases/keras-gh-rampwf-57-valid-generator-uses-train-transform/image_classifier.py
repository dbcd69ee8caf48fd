# rampwf/workflows/image_classifier.py (excerpt)
import numpy as np


class BatchGeneratorBuilder(object):
    """Builds train/valid generators of (X, y) mini-batches for keras fit_generator."""

    def __init__(self, X_array, y_array, transform_img, transform_test_img, folder,
                 chunk_size, n_classes, n_jobs):
        self.X_array = X_array
        self.y_array = y_array
        self.transform_img = transform_img
        self.transform_test_img = transform_test_img
        self.folder = folder
        self.chunk_size = chunk_size
        self.n_classes = n_classes
        self.n_jobs = n_jobs
        self.nb_examples = len(X_array)

    def get_train_valid_generators(self, batch_size=256, valid_ratio=0.1):
        nb_valid = int(valid_ratio * self.nb_examples)
        nb_train = self.nb_examples - nb_valid
        indices = np.arange(self.nb_examples)
        train_indices = indices[0:nb_train]
        valid_indices = indices[nb_train:]
        gen_train = self._get_generator(indices=train_indices, batch_size=batch_size)
        gen_valid = self._get_generator(indices=valid_indices, batch_size=batch_size)
        return gen_train, gen_valid, nb_train, nb_valid

    def _get_generator(self, indices=None, batch_size=256):
        if indices is None:
            indices = np.arange(self.nb_examples)
        while True:
            it = _chunk_iterator(X_array=self.X_array[indices], folder=self.folder,
                                 y_array=self.y_array[indices], chunk_size=self.chunk_size,
                                 n_jobs=self.n_jobs)
            for X, y in it:
                X = np.array([self.transform_img(x) for x in X])
                X = np.array(X, dtype='float32')
                y = _to_categorical(y, num_classes=self.n_classes)
                for i in range(0, len(X), batch_size):
                    yield X[i:i + batch_size], y[i:i + batch_size]
