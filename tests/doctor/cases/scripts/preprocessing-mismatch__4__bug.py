from tensorflow.keras.applications.xception import Xception, preprocess_input
from tensorflow.keras.preprocessing.image import ImageDataGenerator
from tensorflow.keras.layers import Dense, GlobalAveragePooling2D
from tensorflow.keras.models import Model
from tensorflow.keras.optimizers import Adam

datagen = ImageDataGenerator(rescale=1./255, preprocessing_function=preprocess_input,  # expect: preprocessing-mismatch
                             validation_split=0.2)
train_flow = datagen.flow_from_directory("art/", target_size=(299, 299), subset="training")
val_flow = datagen.flow_from_directory("art/", target_size=(299, 299), subset="validation")

base = Xception(weights="imagenet", include_top=False, input_shape=(299, 299, 3))
base.trainable = False
x = GlobalAveragePooling2D()(base.output)
preds = Dense(train_flow.num_classes, activation="softmax")(x)
model = Model(base.input, preds)
model.compile(optimizer=Adam(1e-3), loss="categorical_crossentropy", metrics=["accuracy"])
model.fit(train_flow, validation_data=val_flow, epochs=10)
