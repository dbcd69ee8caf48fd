import numpy as np
import pandas as pd
from keras.utils import to_categorical
import encoding
import model as seq2seq

data = pd.read_csv('./data/joined_titles.csv', header=None)
data = data.sample(frac=1, random_state=0)
english = data[0].values
katakana = data[1].values

english_encoding, english_decoding, english_dict_size = encoding.build_characters_encoding(english)
katakana_encoding, katakana_decoding, katakana_dict_size = encoding.build_characters_encoding(katakana)

encoder_input = encoding.transform(english_encoding, english, vector_size=20)
decoder_input = encoding.transform(katakana_encoding, katakana, vector_size=20)
shifted = np.zeros_like(decoder_input)
shifted[:, :-1] = decoder_input[:, 1:]
decoder_output = to_categorical(shifted, num_classes=katakana_dict_size)

model = seq2seq.create_model(english_dict_size, katakana_dict_size)
model.fit(x=[encoder_input, decoder_input], y=[decoder_output],
          validation_split=0.1, batch_size=64, epochs=30)
