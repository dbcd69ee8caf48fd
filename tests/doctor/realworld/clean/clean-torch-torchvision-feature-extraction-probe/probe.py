"""Linear probe on frozen ResNet-50 features taken with torchvision's feature extraction utility."""
import numpy as np
import torch
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score
from torch.utils.data import DataLoader
from torchvision import datasets
from torchvision.models import ResNet50_Weights, resnet50
from torchvision.models.feature_extraction import create_feature_extractor, get_graph_node_names

device = "cuda" if torch.cuda.is_available() else "cpu"
weights = ResNet50_Weights.IMAGENET1K_V2
preprocess = weights.transforms()  # the resize, crop and normalisation these weights were trained with

model = resnet50(weights=weights)
train_nodes, eval_nodes = get_graph_node_names(model)
extractor = create_feature_extractor(model, return_nodes={"avgpool": "feat"}).to(device).eval()

train_set = datasets.Flowers102("data", split="train", transform=preprocess, download=True)
test_set = datasets.Flowers102("data", split="test", transform=preprocess, download=True)


@torch.no_grad()
def embed(dataset):
    feats, labels = [], []
    for images, targets in DataLoader(dataset, batch_size=64, shuffle=False, num_workers=4):
        out = extractor(images.to(device))["feat"].flatten(1)
        feats.append(out.cpu().numpy())
        labels.append(targets.numpy())
    return np.concatenate(feats), np.concatenate(labels)


x_train, y_train = embed(train_set)
x_test, y_test = embed(test_set)

clf = LogisticRegression(max_iter=2000, C=0.5)
clf.fit(x_train, y_train)
print(f"linear probe top-1 on Flowers102 test: {accuracy_score(y_test, clf.predict(x_test)):.4f}")
