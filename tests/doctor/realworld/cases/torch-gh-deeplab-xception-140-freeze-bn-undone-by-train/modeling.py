import torch.nn as nn
import torch.nn.functional as F
from backbones import build_backbone
from heads import ASPP, Decoder


class SegNet(nn.Module):
    def __init__(self, backbone="resnet", output_stride=16, num_classes=21, freeze_bn=False):
        super().__init__()
        self.backbone = build_backbone(backbone, output_stride, pretrained=True)
        self.aspp = ASPP(backbone, output_stride)
        self.decoder = Decoder(num_classes, backbone)
        if freeze_bn:
            self.freeze_bn()

    def forward(self, x):
        feats, low = self.backbone(x)
        y = self.aspp(feats)
        y = self.decoder(y, low)
        return F.interpolate(y, size=x.shape[2:], mode="bilinear", align_corners=True)

    def freeze_bn(self):
        for m in self.modules():
            if isinstance(m, nn.BatchNorm2d):
                m.eval()
