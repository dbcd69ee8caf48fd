# Keras 2.1.6, TensorFlow 1.7 -- the "fine-tune InceptionV3 on a new set of classes" recipe from
# the Keras applications docs, on my own 5 classes. To rule out overfitting I now train and
# validate on the SAME folder.
from keras.applications.inception_v3 import InceptionV3, preprocess_input
from keras.preprocessing.image import ImageDataGenerator
from keras.models import Model
from keras.layers import Dense, GlobalAveragePooling2D
from keras.optimizers import SGD

DATA = 'data/flowers5/train'
N_CLASSES = 5

gen = ImageDataGenerator(preprocessing_function=preprocess_input)
train_flow = gen.flow_from_directory(DATA, target_size=(299, 299), batch_size=32)
check_flow = gen.flow_from_directory(DATA, target_size=(299, 299), batch_size=32)

backbone = InceptionV3(weights='imagenet', include_top=False)
feat = GlobalAveragePooling2D()(backbone.output)
feat = Dense(1024, activation='relu')(feat)
out = Dense(N_CLASSES, activation='softmax')(feat)
net = Model(inputs=backbone.input, outputs=out)

# step 1: only the new head learns
for lyr in backbone.layers:
    lyr.trainable = False
net.compile(optimizer='rmsprop', loss='categorical_crossentropy', metrics=['accuracy'])
net.fit_generator(train_flow, steps_per_epoch=len(train_flow), epochs=3)

# step 2: unfreeze the two top inception blocks, keep the first 249 layers frozen
for lyr in net.layers[:249]:
    lyr.trainable = False
for lyr in net.layers[249:]:
    lyr.trainable = True
net.compile(optimizer=SGD(lr=0.0001, momentum=0.9), loss='categorical_crossentropy',
            metrics=['accuracy'])
net.fit_generator(train_flow, steps_per_epoch=len(train_flow), epochs=10)

print(net.evaluate_generator(check_flow, steps=len(check_flow)))
