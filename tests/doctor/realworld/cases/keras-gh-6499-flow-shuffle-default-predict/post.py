test_generator = ImageDataGenerator(rescale=1./255)

scores_evaluation = model.evaluate_generator(
    test_generator.flow(X_test, Y_test, batch_size=32), len(Y_test) / 32)
scores_prediction = model.predict_generator(
    test_generator.flow(X_test, batch_size=32), len(Y_test) / 32)

y_pred = np.argmax(scores_prediction, axis=1)
y_true = np.argmax(Y_test, axis=1)
print("evaluate_generator acc:", scores_evaluation[1])
print("acc computed from predict_generator:", np.mean(y_pred == y_true))
print(confusion_matrix(y_true, y_pred))
