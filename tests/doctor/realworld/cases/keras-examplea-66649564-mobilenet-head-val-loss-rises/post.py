def addTopModelMobileNet(bottom_model, num_classes):

    top_model = bottom_model.output
    top_model = GlobalAveragePooling2D()(top_model)
    top_model = Dense(64,activation = 'relu')(top_model)
    top_model = Dropout(0.25)(top_model)
    top_model = Dense(32, activation = 'relu')(top_model)
    top_model = Dropout(0.10)(top_model)
    top_model = Dense(num_classes, activation = 'softmax')(top_model)

    return top_model
