# checking what the pretrained backbone hands to my attention head
import torch
import torch.nn as nn
from torchvision import models

backbone = models.inception_v3(weights="IMAGENET1K_V1", aux_logits=True)  # expect: input-size-mismatch
trunk = nn.Sequential(backbone.Conv2d_1a_3x3, backbone.Conv2d_2a_3x3, backbone.Conv2d_2b_3x3)
batch = torch.randn(2, 3, 229, 229)
print(backbone(batch).logits.shape)  # expect: input-size-mismatch
print(trunk(batch).shape)
