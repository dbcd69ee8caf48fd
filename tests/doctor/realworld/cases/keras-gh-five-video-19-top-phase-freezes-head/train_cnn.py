"""
Fine-tune InceptionV3 on video frames sorted into class folders.
"""
from keras.applications.inception_v3 import InceptionV3
from keras.optimizers import SGD
from keras.preprocessing.image import ImageDataGenerator
from keras.models import Model
from keras.layers import Dense, GlobalAveragePooling2D
from keras.callbacks import ModelCheckpoint, EarlyStopping
from data import DataSet

data = DataSet()

checkpointer = ModelCheckpoint(filepath='./data/checkpoints/inception.{epoch:03d}-{val_loss:.2f}.hdf5',
                               verbose=1, save_best_only=True)
early_stopper = EarlyStopping(patience=10)


def get_generators():
    train_datagen = ImageDataGenerator(rescale=1. / 255, shear_range=0.2, horizontal_flip=True,
                                       rotation_range=10., width_shift_range=0.2,
                                       height_shift_range=0.2)
    test_datagen = ImageDataGenerator(rescale=1. / 255)
    train = train_datagen.flow_from_directory('./data/train/', target_size=(299, 299), batch_size=32,
                                              classes=data.classes, class_mode='categorical')
    valid = test_datagen.flow_from_directory('./data/test/', target_size=(299, 299), batch_size=32,
                                             classes=data.classes, class_mode='categorical')
    return train, valid


def get_model(weights='imagenet'):
    base_model = InceptionV3(weights=weights, include_top=False)
    x = GlobalAveragePooling2D()(base_model.output)
    x = Dense(1024, activation='relu')(x)
    predictions = Dense(len(data.classes), activation='softmax')(x)
    return Model(inputs=base_model.input, outputs=predictions)


def freeze_for_top_training(net):
    """Stage 1: only the new top layers should learn."""
    for layer in net.layers:
        layer.trainable = False
    net.compile(optimizer='rmsprop', loss='categorical_crossentropy', metrics=['accuracy'])
    return net


def unfreeze_top_blocks(net):
    """Stage 2: also train the top two inception blocks."""
    for layer in net.layers[:172]:
        layer.trainable = False
    for layer in net.layers[172:]:
        layer.trainable = True
    net.compile(optimizer=SGD(lr=0.0001, momentum=0.9), loss='categorical_crossentropy',
                metrics=['accuracy', 'top_k_categorical_accuracy'])
    return net


def train(net, epochs, generators, callbacks=()):
    train_gen, valid_gen = generators
    net.fit_generator(train_gen, steps_per_epoch=100, validation_data=valid_gen,
                      validation_steps=10, epochs=epochs, callbacks=list(callbacks))
    return net


def main(weights_file=None):
    model = get_model()
    generators = get_generators()
    if weights_file is None:
        model = freeze_for_top_training(model)
        model = train(model, 10, generators)
    else:
        model.load_weights(weights_file)
    model = unfreeze_top_blocks(model)
    model = train(model, 1000, generators, [checkpointer, early_stopper])


if __name__ == '__main__':
    main()
