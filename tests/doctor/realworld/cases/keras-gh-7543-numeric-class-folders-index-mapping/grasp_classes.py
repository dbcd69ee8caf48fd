from keras.preprocessing.image import ImageDataGenerator
from keras.models import load_model
import numpy as np

n_types = 64
side = 96

gen = ImageDataGenerator(rescale=1. / 255)
train_flow = gen.flow_from_directory('grasps/train', target_size=(side, side),
                                     batch_size=64, class_mode='categorical')
valid_flow = gen.flow_from_directory('grasps/valid', target_size=(side, side),
                                     batch_size=64, class_mode='categorical')

model = load_model('grasp_net.h5')

test_flow = gen.flow_from_directory('grasps/test', target_size=(side, side),
                                    batch_size=64, class_mode=None, shuffle=False)
scores = model.predict_generator(test_flow, steps=int(np.ceil(test_flow.samples / 64.)))

hits = 0
for fname, s in zip(test_flow.filenames, scores):
    folder_number = int(fname.split('/')[0])
    predicted_number = int(np.argmax(s)) + 1
    if predicted_number == folder_number:
        hits += 1
print('test accuracy: %.3f' % (hits / float(len(scores))))
print(valid_flow.class_indices)
