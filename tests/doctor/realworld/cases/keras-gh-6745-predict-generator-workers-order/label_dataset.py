import numpy as np
from keras.applications.inception_v3 import InceptionV3, preprocess_input, decode_predictions
from keras.preprocessing.image import ImageDataGenerator

bs = 64
net = InceptionV3(weights='imagenet')
gen = ImageDataGenerator(preprocessing_function=preprocess_input).flow_from_directory(
    'unlabelled_photos',
    target_size=(299, 299),
    batch_size=bs,
    class_mode=None,
    shuffle=False)

# several workers, otherwise the GPU waits between batches
probs = net.predict_generator(gen, len(gen.filenames) // bs, workers=5)

top1 = decode_predictions(probs, top=1)
with open('labels.csv', 'w') as out:
    for fname, pred in zip(gen.filenames, top1):
        out.write('%s,%s\n' % (fname, pred[0][1]))
