backbone = InceptionV3(weights="imagenet", input_shape = (224,224,3), include_top = False)
#freeze(backbone)

h = backbone.output
h = GlobalAveragePooling2D()(h)
h = Dropout(0.5)(h)

h = Dense(2, activation="softmax")(h)

model = Model(inputs = backbone.input, outputs = h)

# ... trained with ImageDataGenerator(preprocessing_function=preprocess_input), evaluate() ~95%

# single prediction
img = image.load_img(img_file, target_size=(224, 224))
img = preprocess_input(img)
img = np.expand_dims(img, axis=0)
print(model.predict(img))
