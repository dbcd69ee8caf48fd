import pandas as pd
import numpy as np
from keras.preprocessing.image import ImageDataGenerator
from keras.applications.mobilenet import MobileNet
from keras.layers import Dense, GlobalAveragePooling2D
from keras.models import Model

df_fit = pd.DataFrame({'files': ['fit_001.jpg', 'fit_002.jpg'],
                       'labels': ['apple', 'pear']})
df_check = pd.DataFrame({'files': ['check_001.jpg', 'check_002.jpg'],
                         'labels': ['pear', 'apple']})

img_gen = ImageDataGenerator(rescale=1./255)
fit_gen = img_gen.flow_from_dataframe(df_fit, 'fruit', x_col='files', y_col='labels', class_mode='binary')
check_gen = img_gen.flow_from_dataframe(df_check, 'fruit', x_col='files', y_col='labels', class_mode='binary')

print(fit_gen.class_indices)
print(check_gen.class_indices)

base = MobileNet(weights='imagenet', include_top=False, input_shape=(256, 256, 3))
x = GlobalAveragePooling2D()(base.output)
out = Dense(1, activation='sigmoid')(x)
model = Model(base.input, out)
model.compile(optimizer='adam', loss='binary_crossentropy', metrics=['accuracy'])
model.fit_generator(fit_gen, epochs=5, validation_data=check_gen)
