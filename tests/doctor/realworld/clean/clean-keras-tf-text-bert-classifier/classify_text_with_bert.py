"""Fine-tune a small BERT from TF Hub for IMDB sentiment (binary, logits + from_logits=True)."""
import os
import shutil

import tensorflow as tf
import tensorflow_hub as hub
import tensorflow_text as text  # noqa: F401  registers the ops the preprocessing model needs
from official.nlp import optimization

AUTOTUNE = tf.data.AUTOTUNE
batch_size = 32
seed = 42

dataset_dir = "aclImdb"
shutil.rmtree(os.path.join(dataset_dir, "train", "unsup"), ignore_errors=True)

raw_train_ds = tf.keras.utils.text_dataset_from_directory(
    os.path.join(dataset_dir, "train"), batch_size=batch_size,
    validation_split=0.2, subset="training", seed=seed)
class_names = raw_train_ds.class_names
train_ds = raw_train_ds.cache().prefetch(buffer_size=AUTOTUNE)

val_ds = tf.keras.utils.text_dataset_from_directory(
    os.path.join(dataset_dir, "train"), batch_size=batch_size,
    validation_split=0.2, subset="validation", seed=seed).cache().prefetch(buffer_size=AUTOTUNE)

test_ds = tf.keras.utils.text_dataset_from_directory(
    os.path.join(dataset_dir, "test"), batch_size=batch_size).cache().prefetch(buffer_size=AUTOTUNE)

tfhub_handle_encoder = "https://tfhub.dev/tensorflow/small_bert/bert_en_uncased_L-4_H-512_A-8/1"
tfhub_handle_preprocess = "https://tfhub.dev/tensorflow/bert_en_uncased_preprocess/3"


def build_classifier_model():
    text_input = tf.keras.layers.Input(shape=(), dtype=tf.string, name="text")
    preprocessing_layer = hub.KerasLayer(tfhub_handle_preprocess, name="preprocessing")
    encoder_inputs = preprocessing_layer(text_input)
    encoder = hub.KerasLayer(tfhub_handle_encoder, trainable=True, name="BERT_encoder")
    outputs = encoder(encoder_inputs)
    net = outputs["pooled_output"]
    net = tf.keras.layers.Dropout(0.1)(net)
    net = tf.keras.layers.Dense(1, activation=None, name="classifier")(net)
    return tf.keras.Model(text_input, net)


classifier_model = build_classifier_model()

loss = tf.keras.losses.BinaryCrossentropy(from_logits=True)
metrics = tf.metrics.BinaryAccuracy()

epochs = 5
steps_per_epoch = tf.data.experimental.cardinality(train_ds).numpy()
num_train_steps = steps_per_epoch * epochs
num_warmup_steps = int(0.1 * num_train_steps)

init_lr = 3e-5
optimizer = optimization.create_optimizer(init_lr=init_lr, num_train_steps=num_train_steps,
                                          num_warmup_steps=num_warmup_steps, optimizer_type="adamw")

classifier_model.compile(optimizer=optimizer, loss=loss, metrics=metrics)
history = classifier_model.fit(x=train_ds, validation_data=val_ds, epochs=epochs)

loss, accuracy = classifier_model.evaluate(test_ds)
print(f"Loss: {loss}")
print(f"Accuracy: {accuracy}")

examples = ["this is such an amazing movie!", "The movie was terrible..."]
probabilities = tf.sigmoid(classifier_model(tf.constant(examples)))
for sentence, p in zip(examples, probabilities[:, 0].numpy()):
    print(f"{sentence!r}: {class_names[int(p > 0.5)]} ({p:.3f})")
