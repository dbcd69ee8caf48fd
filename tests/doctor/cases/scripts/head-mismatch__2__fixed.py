import torch
import torch.nn as nn
from torchvision import models

NUM_CLASSES = 6

# stage 1 trained a linear probe and saved the whole model:
#   torch.save(model.state_dict(), "probe.pt")   # with model.fc = nn.Linear(2048, 5)
model = models.resnet50(weights="IMAGENET1K_V2")
model.fc = nn.Sequential(nn.Dropout(0.3), nn.Linear(model.fc.in_features, NUM_CLASSES))
state = torch.load("probe.pt", map_location="cpu")
result = model.load_state_dict(state, strict=False)
assert not result.missing_keys, f"not loaded: {result.missing_keys}"
