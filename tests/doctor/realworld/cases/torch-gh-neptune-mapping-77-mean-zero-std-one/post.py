# normalization used for the encoder input
MEAN = [0., 0., 0.]
STD = [1., 1., 1.]
