from keras.applications.xception import Xception, preprocess_input
from keras.preprocessing.image import ImageDataGenerator
from keras.layers import GlobalAveragePooling2D, Dense
from keras.models import Model

base_model = Xception(weights='imagenet', include_top=False, input_shape=(299, 299, 3))
for layer in base_model.layers:
    layer.trainable = False

x = base_model.output
x = GlobalAveragePooling2D()(x)
x = Dense(256, activation='relu')(x)
predictions = Dense(120, activation='softmax')(x)
model = Model(inputs=base_model.input, outputs=predictions)

model.compile(optimizer='adam', loss='categorical_crossentropy')

datagen = ImageDataGenerator(preprocessing_function=preprocess_input)
gen = datagen.flow_from_directory('train', target_size=(299, 299), batch_size=32, class_mode='categorical')

dat = next(gen)

# train and evaluate on exactly the same batch
model.fit(x=dat[0], y=dat[1], batch_size=32)
model.evaluate(x=dat[0], y=dat[1])
