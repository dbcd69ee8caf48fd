import ktrain
from ktrain import text

MODEL_NAME = 'albert-large-v2'
t = text.Transformer(MODEL_NAME, maxlen=500, class_names=train_df.tweet_label_int.unique())
trn = t.preprocess_train(x_train, y_train)
val = t.preprocess_test(x_test, y_test)
model = t.get_classifier()
learner = ktrain.get_learner(model, train_data=trn, val_data=val, batch_size=6)
learner.fit_onecycle(8e-5, 20)
