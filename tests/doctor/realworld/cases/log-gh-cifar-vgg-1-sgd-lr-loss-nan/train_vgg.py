import keras
from keras import optimizers
from keras.datasets import cifar10
from keras.preprocessing.image import ImageDataGenerator


def fit_cifar(net, n_classes=10):
    bs = 128
    epochs = 250
    base_lr = 0.1
    decay = 1e-6
    drop_every = 20

    (xtr, ytr), (xte, yte) = cifar10.load_data()
    xtr = xtr.astype('float32')
    xte = xte.astype('float32')
    mu = xtr.mean()
    sd = xtr.std()
    xtr = (xtr - mu) / (sd + 1e-7)
    xte = (xte - mu) / (sd + 1e-7)
    ytr = keras.utils.to_categorical(ytr, n_classes)
    yte = keras.utils.to_categorical(yte, n_classes)

    def schedule(ep):
        return base_lr * (0.5 ** (ep // drop_every))

    aug = ImageDataGenerator(rotation_range=15, width_shift_range=0.1,
                             height_shift_range=0.1, horizontal_flip=True)
    aug.fit(xtr)

    opt = optimizers.SGD(lr=base_lr, decay=decay, momentum=0.9, nesterov=True)
    net.compile(loss='categorical_crossentropy', optimizer=opt, metrics=['accuracy'])
    net.fit_generator(aug.flow(xtr, ytr, batch_size=bs),
                      steps_per_epoch=xtr.shape[0] // bs,
                      epochs=epochs,
                      validation_data=(xte, yte),
                      callbacks=[keras.callbacks.LearningRateScheduler(schedule)],
                      verbose=2)
    net.save_weights('cifar10vgg.h5')
    return net
