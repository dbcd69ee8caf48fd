from keras.models import Sequential
from keras.layers.core import Dense, Activation, Dropout
from keras.layers.recurrent import LSTM
import numpy as np

text = open('corpus.txt').read().lower()
chars = sorted(set(text))
char_to_num = dict((c, i) for i, c in enumerate(chars))
num_to_char = dict((i, c) for i, c in enumerate(chars))

seq_len = 20
X = []
y = []
for i in range(0, len(text) - seq_len):
    X.append([[char_to_num[c]] for c in text[i:i + seq_len]])
    y.append([char_to_num[text[i + seq_len]]])
X = np.array(X, dtype='float32') / len(chars)
y = np.array(y, dtype='float32') / len(chars)

model = Sequential()
model.add(LSTM(1, 256, return_sequences=True))
model.add(Dropout(0.2))
model.add(LSTM(256, 256, return_sequences=False))
model.add(Dropout(0.2))
model.add(Dense(256, 1))
model.add(Activation('softmax'))
model.compile(loss='categorical_crossentropy', optimizer='rmsprop')

for epoch in range(1000):
    model.fit(X, y, batch_size=128, nb_epoch=1)
    start = np.random.randint(0, len(X) - 1)
    seed = X[start:start + 1]
    out = ''
    for k in range(100):
        p = model.predict(seed, verbose=0)[0][0]
        out += num_to_char[int(round(p * len(chars)))]
    print "epoch", epoch, "->", out
