from sklearn.metrics import classification_report, confusion_matrix
import keras
from keras import backend as K
from keras.preprocessing.image import ImageDataGenerator
import numpy as np
from keras.models import load_model


img_side = 224
holdout_dir = 'E:/work/optical_flow_frames/holdout'
holdout_batch = 8


holdout_gen = ImageDataGenerator(rescale=1./255)
holdout_flow = holdout_gen.flow_from_directory(
        holdout_dir,
        target_size=(img_side, img_side),
        batch_size=holdout_batch,
        class_mode='categorical',
        shuffle=True)

flow_net = load_model('vgg16_flow_stream.h5')

scores = flow_net.evaluate_generator(holdout_flow, holdout_flow.samples // holdout_flow.batch_size)
print('loss / acc on holdout:', scores)

#Confusion Matrix and Classification Report
probs = flow_net.predict_generator(holdout_flow, holdout_flow.samples // holdout_flow.batch_size)
pred_idx = np.argmax(probs, axis=1)
print('Confusion Matrix')
print(confusion_matrix(holdout_flow.classes, pred_idx))
print('Classification Report')
names = ['brushing', 'clapping', 'waving']
print(classification_report(holdout_flow.classes, pred_idx, target_names=names))
