# kws_streaming/models/att_mh_rnn.py (end of model())
  net = tf.keras.layers.Dense(units=flags.units2, activation=flags.activation)(net)
  net = tf.keras.layers.Dense(units=flags.label_count)(net)
  if flags.return_softmax:
    net = tf.keras.layers.Activation('softmax')(net)
  return tf.keras.Model(input_audio, net)


# kws_streaming/train/train.py
  loss = tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True)
  optimizer = tf.keras.optimizers.Adam(epsilon=flags.optimizer_epsilon)
  model.compile(optimizer=optimizer, loss=loss, metrics=['accuracy'])


# my run: the att_mh_rnn experiment from kws_experiments_paper.md, plus
#   --return_softmax 1
# -> accuracy goes down compared to the default --return_softmax 0
