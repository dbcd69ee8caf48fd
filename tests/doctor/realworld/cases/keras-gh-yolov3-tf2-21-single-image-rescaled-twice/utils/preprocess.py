import os

import tensorflow as tf

from configuration import IMAGE_WIDTH, IMAGE_HEIGHT, CHANNELS, images_dir


def resize_image_with_pad(image):
    image_tensor = tf.image.resize_with_pad(image=image, target_height=IMAGE_HEIGHT, target_width=IMAGE_WIDTH)
    image_tensor = tf.cast(image_tensor, tf.float32)
    image_tensor = image_tensor / 255.0
    image_tensor = tf.expand_dims(image_tensor, axis=0)
    return image_tensor


def process_single_image(image_filename):
    img_raw = tf.io.read_file(image_filename)
    image = tf.image.decode_jpeg(img_raw, channels=CHANNELS)
    return resize_image_with_pad(image=image)


def process_image_filenames(filenames):
    image_list = [process_single_image(os.path.join(images_dir, f)) for f in filenames]
    return tf.concat(values=image_list, axis=0)
