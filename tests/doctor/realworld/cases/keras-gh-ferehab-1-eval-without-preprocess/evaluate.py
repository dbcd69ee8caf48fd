import numpy as np
import pandas as pd
from skimage.transform import resize
from keras.models import load_model
from sklearn.metrics import accuracy_score, classification_report

EMOTIONS = ['Anger', 'Disgust', 'Fear', 'Happinness', 'Sadness', 'Surprise', 'Neutral']

model = load_model('ResNet-50.h5')

df = pd.read_csv('FER-2013/fer2013_test.csv')
faces = []
for seq in df['pixels']:
    face = np.array(seq.split(' '), dtype='float32').reshape(48, 48)
    face = resize(face, (197, 197), order=3, mode='constant')
    faces.append(np.dstack([face, face, face]))
faces = np.array(faces)

pred = model.predict(faces, batch_size=64).argmax(axis=1)
print('Accuracy:')
print(accuracy_score(df['emotion'], pred))
print('Report:')
print(classification_report(df['emotion'], pred, target_names=EMOTIONS))
