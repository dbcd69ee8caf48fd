import numpy as np
from keras.layers import Input, Embedding, LSTM, TimeDistributed, Dense, concatenate, dot, Activation
from keras.models import Model

DEFAULT_INPUT_LENGTH = 20
DEFAULT_OUTPUT_LENGTH = 20


def create_model(input_dict_size, output_dict_size,
                 input_length=DEFAULT_INPUT_LENGTH, output_length=DEFAULT_OUTPUT_LENGTH):
    encoder_input = Input(shape=(input_length,))
    decoder_input = Input(shape=(output_length,))

    encoder = Embedding(input_dict_size, 64, input_length=input_length, mask_zero=True)(encoder_input)
    encoder = LSTM(64, return_sequences=True, unroll=True)(encoder)
    encoder_last = encoder[:, -1, :]

    decoder = Embedding(output_dict_size, 64, input_length=output_length, mask_zero=True)(decoder_input)
    decoder = LSTM(64, return_sequences=True, unroll=True)(decoder, initial_state=[encoder_last, encoder_last])

    attention = dot([decoder, encoder], axes=[2, 2])
    attention = Activation('softmax')(attention)
    context = dot([attention, encoder], axes=[2, 1])
    decoder_combined_context = concatenate([context, decoder])

    output = TimeDistributed(Dense(64, activation="tanh"))(decoder_combined_context)
    output = TimeDistributed(Dense(output_dict_size, activation="softmax"))(output)

    model = Model(inputs=[encoder_input, decoder_input], outputs=[output])
    model.compile(optimizer='adam', loss='binary_crossentropy', metrics=['accuracy'])
    return model
