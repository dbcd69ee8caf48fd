from keras import backend as K
from keras.applications.resnet50 import ResNet50
from keras.layers import Dense, Flatten
from keras.models import Model, load_model
from keras.preprocessing.image import ImageDataGenerator

num_classes = 2
batch_size = 32

datagen = ImageDataGenerator()
train = datagen.flow_from_directory('data/train', target_size=(224, 224),
                                    batch_size=batch_size, class_mode='categorical')

base = ResNet50(weights='imagenet', include_top=False, input_shape=(224, 224, 3))
x = Flatten()(base.output)
out = Dense(num_classes, activation='softmax')(x)
model = Model(base.input, out)
model.compile(optimizer='sgd', loss='categorical_crossentropy', metrics=['accuracy'])

model.fit_generator(train, steps_per_epoch=train.samples // batch_size, epochs=5)
print('learning phase 1:', model.evaluate_generator(train, steps=train.samples // batch_size))
model.save('resnet_finetuned.h5')

K.clear_session()
K.set_learning_phase(0)
model = load_model('resnet_finetuned.h5')
print('learning phase 0:', model.evaluate_generator(train, steps=train.samples // batch_size))
