import numpy as np
import cv2
from keras import applications
from keras.optimizers import Adam

img_rows, img_cols, img_channels = 224, 224, 3

# three images, one per class
imgs = np.array([cv2.resize(cv2.imread(f), (img_rows, img_cols)) for f in ['img0.jpg', 'img1.jpg', 'img2.jpg']])
imgs = imgs.astype('float32') / 255.
y = np.array([[1, 0, 0], [0, 1, 0], [0, 0, 1]])

model = applications.resnet50.ResNet50(weights=None, classes=3, input_shape=(img_rows, img_cols, img_channels))
model.compile(loss='categorical_crossentropy', optimizer=Adam(), metrics=['acc'])

model.fit(imgs, y, epochs=5, shuffle=True)

print(model.evaluate(imgs, y))
print(model.predict(imgs))
