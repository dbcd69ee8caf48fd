base_model = InceptionV3(weights="imagenet", input_shape = (224,224,3), include_top = False)
#set_untrainable(base_model)

x = base_model.output
x = GlobalAveragePooling2D()(x)
x = Dropout(0.5)(x)

x = Dense(2, activation="softmax")(x)

model = Model(inputs = base_model.input, outputs = x)

# ... trained with ImageDataGenerator(preprocessing_function=preprocess_input), evaluate() ~95%

# single prediction
img = image.load_img(path, target_size=(224, 224))
img = preprocess_input(img)
img = np.expand_dims(img, axis=0)
print(model.predict(img))
