import numpy as np
from keras.applications.resnet50 import ResNet50, preprocess_input, decode_predictions
from keras.preprocessing import image
from keras.utils import to_categorical

# labels.txt: one synset per line, the order of the devkit's meta.mat (ILSVRC2012_ID 1..1000)
synsets = [line.split()[0] for line in open('labels.txt')]
syn_to_idx = {s: i for i, s in enumerate(synsets)}

x_train = sorted(open('train_files.txt').read().split())
y_train = [syn_to_idx[f.split('/')[-2]] for f in x_train]

def load_batch(files):
    arr = np.stack([image.img_to_array(image.load_img(f, target_size=(224, 224))) for f in files])
    return preprocess_input(arr)

model = ResNet50(weights='imagenet')
model.compile(optimizer='sgd', loss='categorical_crossentropy', metrics=['accuracy'])

xb = load_batch(x_train[:256])
yb = to_categorical(y_train[:256], 1000)
print(model.evaluate(xb, yb, batch_size=32))
preds = model.predict(xb[:4])
print(decode_predictions(preds, top=1))
print([synsets[i] for i in y_train[:4]])
model.fit(xb, yb, batch_size=32, epochs=3)
