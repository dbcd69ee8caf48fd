import tensorflow as tf
from tensorflow.keras.preprocessing.image import ImageDataGenerator
from tensorflow.keras.applications import EfficientNetB4

IMG = 380
BATCH = 16

train_gen = ImageDataGenerator(rescale=1.0 / 255, rotation_range=10,
                               zoom_range=0.1, horizontal_flip=True)
val_gen = ImageDataGenerator(rescale=1.0 / 255)

train_flow = train_gen.flow_from_directory('cxr/train', target_size=(IMG, IMG),
                                           batch_size=BATCH, class_mode='categorical')
val_flow = val_gen.flow_from_directory('cxr/val', target_size=(IMG, IMG),
                                       batch_size=BATCH, class_mode='categorical',
                                       shuffle=False)

base = EfficientNetB4(include_top=False, weights='imagenet', input_shape=(IMG, IMG, 3))
base.trainable = False

inputs = tf.keras.Input(shape=(IMG, IMG, 3))
x = base(inputs, training=False)
x = tf.keras.layers.GlobalAveragePooling2D()(x)
x = tf.keras.layers.Dropout(0.3)(x)
outputs = tf.keras.layers.Dense(train_flow.num_classes, activation='softmax')(x)
model = tf.keras.Model(inputs, outputs)

model.compile(optimizer=tf.keras.optimizers.Adam(1e-3),
              loss='categorical_crossentropy', metrics=['accuracy'])
model.fit(train_flow, validation_data=val_flow, epochs=15)
