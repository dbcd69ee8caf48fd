import torch
from models.inception import inception_v3
from models.wsdan import WSDAN

# check the feature map size of the backbone
features = inception_v3(pretrained=True).get_features()
x = torch.randn(2, 3, 229, 229)
print(features(x).shape)

net = WSDAN(num_classes=200, M=32, net='inception_mixed_6e', pretrained=True)
y_pred, feature_matrix, attention_map = net(x)
print(attention_map.shape)
