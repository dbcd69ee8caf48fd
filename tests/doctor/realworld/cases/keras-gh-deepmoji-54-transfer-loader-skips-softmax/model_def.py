from keras.layers import Input, Embedding, Bidirectional, LSTM, Dense, Dropout, GlobalMaxPooling1D
from keras.models import Model


def load_weights_except(model, weight_path, exclude_names=()):
    # copy saved weights layer by layer, leaving the listed layers as they are
    import h5py
    with h5py.File(weight_path, "r") as store:
        for layer in model.layers:
            if layer.name in exclude_names:
                continue
            if layer.name in store:
                group = store[layer.name]
                layer.set_weights([group[k][()] for k in group.attrs["weight_names"]])


def tweet_encoder(n_classes, vocab=40000, seq_len=60):
    tokens = Input(shape=(seq_len,), dtype="int32")
    x = Embedding(vocab, 256, name="embed")(tokens)
    x = Bidirectional(LSTM(512, return_sequences=True), name="bi_lstm_0")(x)
    x = Bidirectional(LSTM(512, return_sequences=True), name="bi_lstm_1")(x)
    x = GlobalMaxPooling1D()(x)
    x = Dropout(0.5)(x)
    out = Dense(n_classes, activation="softmax", name="softmax")(x)
    return Model(tokens, out)


def make_transfer_model(n_classes, seq_len, weight_path=None):
    model = tweet_encoder(n_classes, seq_len=seq_len)
    if weight_path is not None:
        load_weights_except(model, weight_path, exclude_names=["softmax"])
    return model
