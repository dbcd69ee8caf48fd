import pandas as pd
from keras_preprocessing.image import ImageDataGenerator

df = pd.DataFrame(data={'filename': ['zebra.jpg', 'horse.jpg'], 'class': ['zebra', 'horse']})
CLASSES = ['zebra', 'horse']
EXPECTED_LABELS = [0, 1]
gen = ImageDataGenerator().flow_from_dataframe(df, classes=CLASSES, class_mode='binary')
print("expected labels: {}".format(EXPECTED_LABELS))
print("actual labels: {}".format(gen.labels))
assert gen.labels == EXPECTED_LABELS
