# fine-tune an ImageNet ResNet50 on CIFAR-10 (32x32 input)
import os
import time
from keras.datasets import cifar10
from keras.utils import np_utils
from keras.layers import Input, GlobalAveragePooling2D, Dropout, Dense
from keras.engine import Model
from keras.models import load_model
from keras import optimizers, callbacks
from resnet50_32x32 import ResNet50

W, H = 32, 32
N_CLASSES = 10
EPOCHS = 5
BS = 32
LR = 1e-3

(x_train, y_train), (x_test, y_test) = cifar10.load_data()
y_train = np_utils.to_categorical(y_train, N_CLASSES)
y_test = np_utils.to_categorical(y_test, N_CLASSES)

inp = Input(shape=(W, H, 3))
saved = './trained_models/resnet50model1.h5'
if os.path.isfile(saved):
    net = load_model(saved)
else:
    base = ResNet50(input_tensor=inp, include_top=True, weights='imagenet')
    feat = base.get_layer('res5a_branch2a').input
    feat = GlobalAveragePooling2D(name='avg_pool')(feat)
    feat = Dropout(0.5)(feat)
    out = Dense(N_CLASSES, activation='softmax', name='output_layer')(feat)
    net = Model(inputs=inp, outputs=out)

for layer in net.layers:
    layer.trainable = True

net.compile(loss='binary_crossentropy',
            optimizer=optimizers.SGD(lr=LR, momentum=0.8),
            metrics=['accuracy'])

ckpt = callbacks.ModelCheckpoint('./trained_models/model1_{epoch:02d}-{val_acc:.2f}.h5',
                                 monitor='val_acc', save_best_only=True, mode='max')
t0 = time.time()
hist = net.fit(x_train, y_train, batch_size=BS, epochs=EPOCHS, verbose=1,
               validation_data=(x_test, y_test), callbacks=[ckpt])
print('Training time: %s' % (time.time() - t0))

loss, acc = net.evaluate(x_test, y_test, batch_size=BS, verbose=1)
print("[INFO] loss={:.4f}, accuracy: {:.4f}%".format(loss, acc * 100))
net.save(saved)
