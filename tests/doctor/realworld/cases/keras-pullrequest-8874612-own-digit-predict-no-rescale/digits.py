import numpy as np
import tensorflow as tf
from keras.preprocessing import image

(x_tr, y_tr), (x_te, y_te) = tf.keras.datasets.mnist.load_data()
x_tr, x_te = x_tr / 255.0, x_te / 255.0

net = tf.keras.models.Sequential([
    tf.keras.layers.Flatten(input_shape=(28, 28)),
    tf.keras.layers.Dense(96, activation=tf.nn.relu),
    tf.keras.layers.Dropout(0.15),
    tf.keras.layers.Dense(10, activation=tf.nn.softmax)
])
net.compile(optimizer='adam', loss='sparse_categorical_crossentropy', metrics=['accuracy'])
net.fit(x_tr, y_tr, epochs=3)
net.evaluate(x_te, y_te)

mine = image.load_img('my_seven.png', target_size=(28, 28), color_mode='grayscale')
mine = image.img_to_array(mine)
pred = net.predict(mine.reshape(-1, 28, 28))
print("Predicted digit:")
print(np.argmax(pred[0]))
