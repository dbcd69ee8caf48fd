# evaluation cell of a notebook; the model comes from earlier cells
validation_generator = val_datagen.flow_from_directory(validation_data_dir, target_size=(img_width, img_height),
                                                       batch_size=batch_size, shuffle=False)
model.load_weights("best_weights.h5")
loss, acc = model.evaluate_generator(validation_generator, steps=nb_validation_samples // batch_size)
print("val acc", acc)  # 0.93

Y_pred = model.predict_generator(validation_generator, nb_validation_samples // batch_size + 1)
y_pred = np.argmax(Y_pred, axis=1)
print("Confusion Matrix")
print(confusion_matrix(validation_generator.classes, y_pred))
target_names = list(validation_generator.class_indices.keys())
print(classification_report(validation_generator.classes, y_pred, target_names=target_names))
