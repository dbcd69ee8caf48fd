import tensorflow as tf
import tensorflow_datasets as tfds

pets, info = tfds.load('oxford_iiit_pet:3.*.*', with_info=True)


def scale(img, mask):
    img = tf.cast(img, tf.float32) / 255.0
    mask -= 1
    return img, mask


@tf.function
def load_train(sample):
    img = tf.image.resize(sample['image'], (128, 128))
    mask = tf.image.resize(sample['segmentation_mask'], (128, 128))

    if tf.random.uniform(()) > 0.5:
        img = tf.image.flip_left_right(img)
        mask = tf.image.flip_left_right(mask)

    img, mask = scale(img, mask)
    return img, mask


def load_test(sample):
    img = tf.image.resize(sample['image'], (128, 128))
    mask = tf.image.resize(sample['segmentation_mask'], (128, 128))
    img, mask = scale(img, mask)
    return img, mask


N_TRAIN = info.splits['train'].num_examples
BATCH = 64
BUFFER = 1000
STEPS = N_TRAIN // BATCH

train = pets['train'].map(load_train, num_parallel_calls=tf.data.AUTOTUNE)
test = pets['test'].map(load_test)

train_ds = train.cache().shuffle(BUFFER).batch(BATCH).repeat()
train_ds = train_ds.prefetch(buffer_size=tf.data.AUTOTUNE)
test_ds = test.batch(BATCH)

encoder_net = tf.keras.applications.MobileNetV2(input_shape=[128, 128, 3], include_top=False)
skip_names = ['block_1_expand_relu', 'block_3_expand_relu', 'block_6_expand_relu',
              'block_13_expand_relu', 'block_16_project']
skips = [encoder_net.get_layer(n).output for n in skip_names]
down_stack = tf.keras.Model(inputs=encoder_net.input, outputs=skips)
down_stack.trainable = False

# ... decoder (pix2pix upsample blocks) and unet_model(3) as in the tutorial ...
model = unet_model(3)
model.compile(optimizer='adam',
              loss=tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True),
              metrics=['accuracy'])
history = model.fit(train_ds, epochs=20, steps_per_epoch=STEPS,
                    validation_steps=info.splits['test'].num_examples // BATCH // 5,
                    validation_data=test_ds)
