#!/usr/bin/env python
# training a CNN that tells viral contigs from host contigs
import os
import sys
import optparse
import numpy as np
import keras
from keras.models import load_model, Model
from keras.layers import Dense, Dropout, Input, Conv1D, GlobalMaxPooling1D
from keras.layers.merge import Average
from keras.optimizers import Adam
import sklearn
from sklearn.metrics import roc_auc_score

channel_num = 4

parser = optparse.OptionParser()
parser.add_option("-l", "--len", action="store", type=int, dest="contigLength")
parser.add_option("-i", "--intr", action="store", type="string", dest="inDirTr", default='./')
parser.add_option("-j", "--inval", action="store", type="string", dest="inDirVal", default='./')
parser.add_option("-o", "--out", action="store", type="string", dest="outDir", default='./')
parser.add_option("-f", "--fLen1", action="store", type=int, dest="filter_len1")
parser.add_option("-n", "--fNum1", action="store", type=int, dest="nb_filter1", default=0)
parser.add_option("-d", "--dense", action="store", type=int, dest="nb_dense", default=0)
parser.add_option("-e", "--epochs", action="store", type=int, dest="epochs", default=0)
(options, args) = parser.parse_args()

contigLength = options.contigLength
filter_len1 = options.filter_len1
nb_filter1 = options.nb_filter1
nb_dense = options.nb_dense
outDir = options.outDir
epochs = options.epochs
contigLengthk = str(int(contigLength / 1000))


def load_pair(inDir, kind):
    name = [x for x in os.listdir(inDir) if 'codefw.npy' in x and kind in x and contigLengthk + 'k' in x][0]
    fw = np.load(os.path.join(inDir, name))
    bw = np.load(os.path.join(inDir, name.replace('fw', 'bw')))
    return fw, bw


print("...loading data...")
virus_trfw, virus_trbw = load_pair(options.inDirTr, 'virus')
host_trfw, host_trbw = load_pair(options.inDirTr, 'host')
virus_valfw, virus_valbw = load_pair(options.inDirVal, 'virus')
host_valfw, host_valbw = load_pair(options.inDirVal, 'host')

Y_tr = np.concatenate((np.repeat(0, host_trfw.shape[0]), np.repeat(1, virus_trfw.shape[0])))
X_trfw = np.concatenate((host_trfw, virus_trfw), axis=0)
X_trbw = np.concatenate((host_trbw, virus_trbw), axis=0)
index_tr = np.random.permutation(X_trfw.shape[0])
X_trfw_shuf, X_trbw_shuf, Y_tr_shuf = X_trfw[index_tr], X_trbw[index_tr], Y_tr[index_tr]

Y_val = np.concatenate((np.repeat(0, host_valfw.shape[0]), np.repeat(1, virus_valfw.shape[0])))
X_valfw = np.concatenate((host_valfw, virus_valfw), axis=0)
X_valbw = np.concatenate((host_valbw, virus_valbw), axis=0)

dropout_pool = 0.1
dropout_dense = 0.1
learningrate = 0.001
batch_size = int(X_trfw_shuf.shape[0] / (1000 * 1000 / contigLength))

modPattern = 'model_siamese_varlen_' + contigLengthk + 'k_fl' + str(filter_len1) + '_fn' + str(nb_filter1) + '_dn' + str(nb_dense)
modName = os.path.join(outDir, modPattern + '.h5')
checkpointer = keras.callbacks.ModelCheckpoint(filepath=modName, verbose=1, save_best_only=True)
earlystopper = keras.callbacks.EarlyStopping(monitor='val_acc', min_delta=0.0001, patience=5, verbose=1)


def get_output(input_layer, hidden_layers):
    output = input_layer
    for hidden_layer in hidden_layers:
        output = hidden_layer(output)
    return output


print("...building model...")
if os.path.isfile(modName):
    model = load_model(modName)
else:
    forward_input = Input(shape=(None, channel_num))
    reverse_input = Input(shape=(None, channel_num))
    hidden_layers = [
        Conv1D(filters=nb_filter1, kernel_size=filter_len1, activation='relu'),
        GlobalMaxPooling1D(),
        Dropout(dropout_pool),
        Dense(nb_dense, activation='relu'),
        Dropout(dropout_dense),
        Dense(1, activation='sigmoid')
    ]
    output = Average()([get_output(forward_input, hidden_layers), get_output(reverse_input, hidden_layers)])
    model = Model(inputs=[forward_input, reverse_input], outputs=output)
    model.compile(Adam(lr=learningrate), 'binary_crossentropy', metrics=['accuracy'])

print("...fitting model...")
model.fit(x=[X_trfw_shuf, X_trbw_shuf], y=Y_tr_shuf,
          batch_size=batch_size, epochs=epochs, verbose=2,
          validation_data=([X_valfw, X_valbw], Y_val),
          callbacks=[checkpointer, earlystopper])

Y_pred = model.predict([X_valfw, X_valbw], batch_size=1)
print('auc_val=' + str(roc_auc_score(Y_val, Y_pred)))
