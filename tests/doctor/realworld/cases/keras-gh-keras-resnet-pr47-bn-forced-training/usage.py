import keras
import keras_resnet.models

shape, classes = (224, 224, 3), 200

x = keras.layers.Input(shape)

model = keras_resnet.models.ResNet50(x, classes=classes, freeze_bn=False)

model.compile("adam", "categorical_crossentropy", ["accuracy"])

model.fit_generator(train_generator, epochs=30, validation_data=val_generator)
