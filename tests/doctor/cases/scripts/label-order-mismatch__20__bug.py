# evaluation cell of a notebook; the generators and the model come from earlier cells
model.load_weights("best_weights.h5")
loss, acc = model.evaluate_generator(validation_generator, steps=nb_validation_samples // batch_size)
print("val acc", acc)  # 0.93

Y_pred = model.predict_generator(validation_generator, nb_validation_samples // batch_size + 1)  # expect: label-order-mismatch
y_pred = np.argmax(Y_pred, axis=1)
print("Confusion Matrix")
print(confusion_matrix(validation_generator.classes, y_pred))  # expect: label-order-mismatch
target_names = list(validation_generator.class_indices.keys())
print(classification_report(validation_generator.classes, y_pred, target_names=target_names))
