import numpy as np
from sklearn.metrics import classification_report, confusion_matrix
from tensorflow.keras.applications.efficientnet import EfficientNetB3
from tensorflow.keras.preprocessing.image import ImageDataGenerator
from tensorflow.keras import layers, models

gen = ImageDataGenerator()
train_gen = gen.flow_from_directory("balls/train", target_size=(300, 300), batch_size=32)
valid_gen = gen.flow_from_directory("balls/valid", target_size=(300, 300), batch_size=32)
test_gen = gen.flow_from_directory("balls/test", target_size=(300, 300), batch_size=32)  # expect: label-order-mismatch

base = EfficientNetB3(include_top=False, weights="imagenet", pooling="max", input_shape=(300, 300, 3))
model = models.Sequential([base, layers.BatchNormalization(), layers.Dense(26, activation="softmax")])
model.compile(optimizer="adamax", loss="categorical_crossentropy", metrics=["accuracy"])
base.trainable = False
model.compile(optimizer="adamax", loss="categorical_crossentropy", metrics=["accuracy"])
model.fit(train_gen, validation_data=valid_gen, epochs=10)

print(model.evaluate(test_gen))  # 0.96
preds = model.predict(test_gen)  # expect: label-order-mismatch
y_pred = np.argmax(preds, axis=1)
y_true = test_gen.classes  # expect: label-order-mismatch
print(confusion_matrix(y_true, y_pred))  # looks random: ~4% accuracy
print(classification_report(y_true, y_pred))
