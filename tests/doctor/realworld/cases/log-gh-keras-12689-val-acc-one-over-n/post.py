from keras.applications.resnet50 import ResNet50, preprocess_input
from keras.preprocessing.image import ImageDataGenerator
from keras.layers import Dense, GlobalAveragePooling2D, Dropout
from keras.models import Model

IMG = 224
BATCH = 32
N_CLASSES = 20

train_gen = ImageDataGenerator(preprocessing_function=preprocess_input,
                               horizontal_flip=True,
                               zoom_range=0.2)
val_gen = ImageDataGenerator(rescale=1. / 255)

train_flow = train_gen.flow_from_directory('fashion/train', target_size=(IMG, IMG),
                                           batch_size=BATCH, class_mode='categorical')
val_flow = val_gen.flow_from_directory('fashion/val', target_size=(IMG, IMG),
                                       batch_size=BATCH, class_mode='categorical')

base = ResNet50(weights='imagenet', include_top=False, input_shape=(IMG, IMG, 3))
for layer in base.layers:
    layer.trainable = False

h = GlobalAveragePooling2D()(base.output)
h = Dense(512, activation='relu')(h)
h = Dropout(0.5)(h)
out = Dense(N_CLASSES, activation='softmax')(h)
model = Model(base.input, out)

model.compile(optimizer='adam', loss='categorical_crossentropy', metrics=['acc'])
model.fit_generator(train_flow, steps_per_epoch=train_flow.samples // BATCH,
                    validation_data=val_flow, validation_steps=val_flow.samples // BATCH,
                    epochs=20)
