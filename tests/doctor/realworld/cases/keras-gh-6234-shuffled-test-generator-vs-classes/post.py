from keras.models import load_model
from keras.preprocessing.image import ImageDataGenerator
from keras.utils.np_utils import probas_to_classes

img_height, img_width = 150, 150
batch_size = 32
test_data_dir = 'data/test'

model = load_model('model.h5')
test_datagen = ImageDataGenerator(rescale=1. / 255)

test_generator = test_datagen.flow_from_directory(test_data_dir,
                                                  target_size=(img_height, img_width),
                                                  batch_size=batch_size,
                                                  shuffle=True)
y_probabilities = model.predict_generator(test_generator,
                                          val_samples=test_generator.nb_sample)
y_predictions = probas_to_classes(y_probabilities)

print(y_predictions[0] == test_generator.classes[0])
print(test_generator.filenames[0], y_predictions[0])
