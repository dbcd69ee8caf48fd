# fastai
data = ImageDataBunch.from_folder(cifar_path, train="train", valid="test", ds_tfms=None, size=64,
                                  num_workers=0).normalize(imagenet_stats)
learn = cnn_learner(data, models.resnet50, metrics=[accuracy], true_wd=False)
learn.fit(3)

# Tensorflow
backbone = keras.applications.resnet_v2.ResNet50V2(weights="imagenet", include_top=False)

for layer in backbone.layers:
    layer.trainable = False

avg_pool = keras.layers.GlobalAveragePooling2D()(backbone.output)
max_pool = keras.layers.GlobalMaxPooling2D()(backbone.output)
head = tf.keras.layers.Concatenate()([avg_pool, max_pool])
head = keras.layers.BatchNormalization()(head)
head = keras.layers.Dropout(0.25)(head)
head = keras.layers.Dense(512, activation="relu")(head)
head = keras.layers.BatchNormalization()(head)
head = keras.layers.Dropout(0.25)(head)
head = keras.layers.Dense(n_classes, activation="softmax")(head)

clf = keras.models.Model(inputs=backbone.input, outputs=head)

opt = tf.keras.optimizers.Adam(lr=0.003)
clf.compile(loss="sparse_categorical_crossentropy", optimizer=opt, metrics=["accuracy"])
clf.fit(train_ds, validation_data=test_ds, epochs=3)
