from tensorflow.keras.applications.resnet50 import ResNet50, preprocess_input
from tensorflow.keras.preprocessing.image import ImageDataGenerator
from tensorflow.keras import layers, models

gen = ImageDataGenerator(preprocessing_function=preprocess_input)
train_flow = gen.flow_from_directory("seg_train", target_size=(224, 224), batch_size=64,
                                     class_mode="sparse", shuffle=True)
val_flow = gen.flow_from_directory("seg_test", target_size=(224, 224), batch_size=64,
                                   class_mode="sparse", shuffle=False)

base = ResNet50(include_top=False, weights="imagenet", pooling="avg", input_shape=(224, 224, 3))
base.trainable = False
model = models.Sequential([base, layers.Dense(6, activation="softmax")])
model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
model.fit(train_flow, validation_data=val_flow, epochs=10)
