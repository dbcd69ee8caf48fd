from keras.applications import resnet50, inception_v3, vgg16
from keras.layers import Dense, GlobalAveragePooling2D
from keras.models import Model
from keras.optimizers import Adam
import numpy as np

n_classes = 2
bs = 50

arch = resnet50.ResNet50
# arch = inception_v3.InceptionV3
# arch = vgg16.VGG16

base = arch(weights='imagenet', include_top=False)
h = GlobalAveragePooling2D()(base.output)
h = Dense(1024, activation='relu')(h)
out = Dense(n_classes, activation='softmax')(h)
model = Model(inputs=base.input, outputs=out)

for layer in base.layers:
    layer.trainable = False

model.compile(optimizer=Adam(lr=1e-4),
              loss='sparse_categorical_crossentropy',
              metrics=['acc'])

X = np.random.normal(loc=127, scale=127, size=(50, 224, 224, 3))
y = np.array([0, 1] * 25)
X = resnet50.preprocess_input(X)

print(model.evaluate(X, y, batch_size=bs))
model.fit(X, y, batch_size=bs, epochs=5, validation_data=(X, y))
print(model.evaluate(X, y, batch_size=bs))
