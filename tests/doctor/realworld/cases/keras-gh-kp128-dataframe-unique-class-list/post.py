import numpy as np
import pandas as pd
from keras.models import load_model
from keras.preprocessing.image import ImageDataGenerator

target = 'breed'
train_data = pd.read_csv('folds/train.csv')
test_data = pd.read_csv('folds/test.csv')

datagen = ImageDataGenerator(rescale=1./255)

train_gen = datagen.flow_from_dataframe(
    dataframe=train_data,
    directory='photos/',
    x_col='id',
    y_col=target,
    target_size=(150, 150),
    class_mode='categorical',
    batch_size=32)

model = load_model('breeds_cnn.h5')

test_gen = datagen.flow_from_dataframe(
    dataframe=test_data,
    directory='photos/',
    x_col='id',
    y_col=target,
    target_size=(150, 150),
    class_mode='categorical',
    batch_size=1,
    shuffle=False)

probs = model.predict_generator(test_gen, steps=len(test_data))
pred_idx = np.argmax(probs, axis=1)

class_list = test_data[target].unique().tolist()
test_data['predicted'] = [class_list[i] for i in pred_idx]
print('accuracy:', np.mean(test_data['predicted'] == test_data[target]))
