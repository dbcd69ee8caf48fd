import tensorflow as tf
from tensorflow.python.keras.applications import vgg16
from tensorflow.python.keras.preprocessing import image_dataset

val_ds = image_dataset.image_dataset_from_directory(
    'D:/ILSVRC2012/val_sorted',
    labels='inferred',
    label_mode='categorical',
    batch_size=64,
    image_size=(224, 224),
    shuffle=False)

val_ds = val_ds.map(lambda x, y: (vgg16.preprocess_input(x), y))

model = vgg16.VGG16(weights='imagenet')
model.compile(loss='categorical_crossentropy',
              metrics=[tf.keras.metrics.TopKCategoricalAccuracy(k=1, name='top1'),
                       tf.keras.metrics.TopKCategoricalAccuracy(k=5, name='top5')])

loss, acc1, acc5 = model.evaluate(val_ds, verbose=1)
print('top1 = %.4f, top5 = %.4f' % (acc1, acc5))
