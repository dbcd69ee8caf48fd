import Augmentor
import numpy as np
from keras.preprocessing import image

p = Augmentor.Pipeline("data/train")
p.rotate(probability=0.7, max_left_rotation=10, max_right_rotation=10)
p.flip_left_right(probability=0.5)
p.zoom_random(probability=0.5, percentage_area=0.8)

g = p.keras_generator(batch_size=32)
model.fit_generator(g, steps_per_epoch=len(p.augmentor_images) // 32, epochs=20, verbose=1)

# predict one test image
img = image.load_img("data/test/0001.png", target_size=(64, 64))
x = image.img_to_array(img)
x = np.expand_dims(x, axis=0)
pred = model.predict(x)
print(np.argmax(pred, axis=1))
