"""Newsgroup20 topic classification with frozen pre-trained GloVe embeddings."""
import os
import pathlib

os.environ["KERAS_BACKEND"] = "tensorflow"  # string inputs need the TensorFlow backend

import keras
import numpy as np
import tensorflow as tf
from keras import layers

data_path = keras.utils.get_file(
    "news20.tar.gz",
    "http://www.cs.cmu.edu/afs/cs.cmu.edu/project/theo-20/www/data/news20.tar.gz",
    untar=True,
)
data_dir = pathlib.Path(data_path).parent / "20_newsgroup"

samples, labels = [], []
class_names = sorted(os.listdir(data_dir))
for class_index, dirname in enumerate(class_names):
    for fname in sorted(os.listdir(data_dir / dirname)):
        with open(data_dir / dirname / fname, encoding="latin-1") as f:
            lines = f.readlines()
        # drop the header block, keep the message body
        body = "".join(lines[10:])
        samples.append(body)
        labels.append(class_index)

# the files are grouped by class: shuffle texts and labels together before splitting
seed = 1337
rng = np.random.RandomState(seed)
order = rng.permutation(len(samples))
samples = [samples[i] for i in order]
labels = np.array(labels)[order]

validation_split = 0.2
num_validation = int(validation_split * len(samples))
train_samples, val_samples = samples[:-num_validation], samples[-num_validation:]
train_labels, val_labels = labels[:-num_validation], labels[-num_validation:]

vectorizer = layers.TextVectorization(max_tokens=20000, output_sequence_length=200)
vectorizer.adapt(tf.data.Dataset.from_tensor_slices(train_samples).batch(128))
voc = vectorizer.get_vocabulary()
word_index = dict(zip(voc, range(len(voc))))

path_to_glove_file = "glove.6B.100d.txt"
embeddings_index = {}
with open(path_to_glove_file, encoding="utf-8") as f:
    for line in f:
        word, coefs = line.split(maxsplit=1)
        embeddings_index[word] = np.fromstring(coefs, "f", sep=" ")

num_tokens = len(voc) + 2
embedding_dim = 100
embedding_matrix = np.zeros((num_tokens, embedding_dim))
for word, i in word_index.items():
    vector = embeddings_index.get(word)
    if vector is not None:
        embedding_matrix[i] = vector

embedding_layer = layers.Embedding(
    num_tokens,
    embedding_dim,
    trainable=False,  # keep the pre-trained vectors fixed
)
embedding_layer.build((1,))
embedding_layer.set_weights([embedding_matrix])

int_sequences_input = keras.Input(shape=(None,), dtype="int32")
x = embedding_layer(int_sequences_input)
x = layers.Conv1D(128, 5, activation="relu")(x)
x = layers.MaxPooling1D(5)(x)
x = layers.Conv1D(128, 5, activation="relu")(x)
x = layers.MaxPooling1D(5)(x)
x = layers.Conv1D(128, 5, activation="relu")(x)
x = layers.GlobalMaxPooling1D()(x)
x = layers.Dense(128, activation="relu")(x)
x = layers.Dropout(0.5)(x)
preds = layers.Dense(len(class_names), activation="softmax")(x)
model = keras.Model(int_sequences_input, preds)

x_train = vectorizer(np.array([[s] for s in train_samples])).numpy()
x_val = vectorizer(np.array([[s] for s in val_samples])).numpy()

model.compile(
    loss="sparse_categorical_crossentropy",
    optimizer="rmsprop",
    metrics=["accuracy"],
)
model.fit(x_train, train_labels, batch_size=128, epochs=20, validation_data=(x_val, val_labels))

# end-to-end model for raw strings: same vectorizer, same class order as training
string_input = keras.Input(shape=(1,), dtype="string")
end_to_end = keras.Model(string_input, model(vectorizer(string_input)))
probabilities = end_to_end(keras.ops.convert_to_tensor([["this message is about a space shuttle launch"]]))
print(class_names[int(np.argmax(probabilities[0]))])
