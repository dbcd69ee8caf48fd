import numpy
from keras.models import Sequential
from keras.layers import Dense

table = numpy.loadtxt("sensor_rows.csv", delimiter=",")
X = table[:, 0:31]
Y = table[:, [31, 32]]

model = Sequential()
model.add(Dense(40, activation='relu', kernel_initializer='uniform', input_dim=31))
model.add(Dense(31, activation='relu', kernel_initializer='uniform'))
model.add(Dense(2, activation='sigmoid', kernel_initializer='uniform'))

model.compile(loss='categorical_crossentropy', optimizer='adam', metrics=['categorical_accuracy'])
model.fit(X, Y, epochs=1, batch_size=10, verbose=2)

score, acc = model.evaluate(X, Y)
print score, acc

y_hat = model.predict(X)
print Y[:10]
print numpy.round(y_hat[:10])
