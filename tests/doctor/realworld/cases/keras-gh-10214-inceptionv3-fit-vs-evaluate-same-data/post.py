from keras.applications.inception_v3 import InceptionV3, preprocess_input
from keras.preprocessing.image import ImageDataGenerator
from keras.models import Model
from keras.layers import Dense, GlobalAveragePooling2D
from keras.optimizers import SGD

n_classes = 12
data_dir = '/data/leaves/train'

gen = ImageDataGenerator(preprocessing_function=preprocess_input)
flow = gen.flow_from_directory(data_dir, target_size=(299, 299), batch_size=32,
                               class_mode='categorical', shuffle=True)

# ImageNet backbone without its classifier
backbone = InceptionV3(weights='imagenet', include_top=False)

# pool the last feature maps
h = backbone.output
h = GlobalAveragePooling2D()(h)
h = Dense(1024, activation='relu')(h)
# new classifier for our classes
probs = Dense(n_classes, activation='softmax')(h)

model = Model(inputs=backbone.input, outputs=probs)

# stage 1: only the new head learns
for layer in backbone.layers:
    layer.trainable = False

model.compile(optimizer='rmsprop', loss='categorical_crossentropy', metrics=['accuracy'])
model.fit_generator(flow, steps_per_epoch=len(flow), epochs=5)

# stage 2: open the last two inception blocks
for layer in model.layers[:249]:
    layer.trainable = False
for layer in model.layers[249:]:
    layer.trainable = True

model.compile(optimizer=SGD(lr=0.0001, momentum=0.9), loss='categorical_crossentropy', metrics=['accuracy'])
h = model.fit_generator(flow, steps_per_epoch=len(flow), epochs=10)
print('accuracy reported by fit:', h.history['acc'][-1])

# same data, same generator
score = model.evaluate_generator(flow, steps=len(flow))
print('accuracy reported by evaluate:', score[1])
