net = Sequential()
net.add(Conv1D(8,kernel_size=5, input_shape=(256,1)))
net.add(Conv1D(16,kernel_size=5))
net.add(Flatten())
net.add(Dense(1024, activation='relu'))#, input_dim=256))
net.add(Dense(512, activation='relu'))
net.add(Dense(256, activation='relu'))
net.add(Dense(128, activation='relu'))
net.add(Dense(5, activation='sigmoid'))
net.summary()
net.compile(optimizer = 'adam', loss = 'binary_crossentropy', metrics = ['accuracy'])

net.fit(x_tr, y_tr, batch_size = 16, epochs = 20, verbose=1,
validation_data=(x_va, y_va))
