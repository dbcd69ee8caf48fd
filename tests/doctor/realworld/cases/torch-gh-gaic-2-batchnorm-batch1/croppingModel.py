import torch
import torch.nn as nn
import torch.nn.init as init

from mobilenetv2 import MobileNetV2
from rod_align.modules.rod_align import RoDAlignAvg
from roi_align.modules.roi_align import RoIAlignAvg
from ShuffleNetV2 import shufflenetv2


class mobilenetv2_base(nn.Module):

    def __init__(self, loadweights=True, downsample=4, model_path='pretrained_model/mobilenetv2_1.0.pth'):
        super(mobilenetv2_base, self).__init__()
        backbone = MobileNetV2(width_mult=1.0)
        if loadweights:
            backbone.load_state_dict(torch.load(model_path))
        self.stage3 = nn.Sequential(backbone.features[:7])
        self.stage4 = nn.Sequential(backbone.features[7:14])
        self.stage5 = nn.Sequential(backbone.features[14:])

    def forward(self, x):
        c3 = self.stage3(x)
        c4 = self.stage4(c3)
        return c3, c4, self.stage5(c4)


class shufflenetv2_base(nn.Module):

    def __init__(self, loadweights=True, downsample=4, model_path='pretrained_model/shufflenetv2_x1.pth.tar'):
        super(shufflenetv2_base, self).__init__()
        backbone = shufflenetv2(width_mult=1.0)
        if loadweights:
            backbone.load_state_dict(torch.load(model_path))
        self.stage3 = nn.Sequential(backbone.conv1, backbone.maxpool, backbone.features[:4])
        self.stage4 = nn.Sequential(backbone.features[4:12])
        self.stage5 = nn.Sequential(backbone.features[12:])

    def forward(self, x):
        c3 = self.stage3(x)
        c4 = self.stage4(c3)
        return c3, c4, self.stage5(c4)


def fc_layers(reddim=32, alignsize=8):
    return nn.Sequential(
        nn.Sequential(nn.Conv2d(reddim, 768, kernel_size=alignsize), nn.BatchNorm2d(768), nn.ReLU(inplace=True)),
        nn.Sequential(nn.Conv2d(768, 128, kernel_size=1), nn.BatchNorm2d(128), nn.ReLU(inplace=True)),
        nn.Dropout(p=0.5),
        nn.Conv2d(128, 1, kernel_size=1),
    )


class crop_model_single_scale(nn.Module):

    def __init__(self, alignsize=8, reddim=8, loadweight=True, model=None, downsample=4):
        super(crop_model_single_scale, self).__init__()
        if model == 'shufflenetv2':
            self.backbone = shufflenetv2_base(loadweight, downsample)
            self.reduce = nn.Conv2d(232 if downsample == 4 else 464, reddim, kernel_size=1)
        elif model == 'mobilenetv2':
            self.backbone = mobilenetv2_base(loadweight, downsample)
            self.reduce = nn.Conv2d(96 if downsample == 4 else 320, reddim, kernel_size=1)
        self.roi_align = RoIAlignAvg(alignsize, alignsize, 1.0 / 2 ** downsample)
        self.rod_align = RoDAlignAvg(alignsize, alignsize, 1.0 / 2 ** downsample)
        self.head = fc_layers(reddim * 2, alignsize)

    def forward(self, im_data, boxes):
        _, feat, _ = self.backbone(im_data)
        feat = self.reduce(feat)
        both = torch.cat((self.roi_align(feat, boxes), self.rod_align(feat, boxes)), 1)
        return self.head(both)


class crop_model_multi_scale_shared(nn.Module):

    def __init__(self, alignsize=8, reddim=32, loadweight=True, model=None, downsample=4):
        super(crop_model_multi_scale_shared, self).__init__()
        if model == 'shufflenetv2':
            self.backbone = shufflenetv2_base(loadweight, downsample)
            self.reduce = nn.Conv2d(812, reddim, kernel_size=1)
        elif model == 'mobilenetv2':
            self.backbone = mobilenetv2_base(loadweight, downsample)
            self.reduce = nn.Conv2d(448, reddim, kernel_size=1)
        self.down2 = nn.UpsamplingBilinear2d(scale_factor=0.5)
        self.up2 = nn.UpsamplingBilinear2d(scale_factor=2.0)
        self.roi_align = RoIAlignAvg(alignsize, alignsize, 1.0 / 2 ** downsample)
        self.rod_align = RoDAlignAvg(alignsize, alignsize, 1.0 / 2 ** downsample)
        self.head = fc_layers(reddim * 2, alignsize)

    def forward(self, im_data, boxes):
        c3, c4, c5 = self.backbone(im_data)
        feat = torch.cat((self.down2(c3), c4, 0.5 * self.up2(c5)), 1)
        feat = self.reduce(feat)
        both = torch.cat((self.roi_align(feat, boxes), self.rod_align(feat, boxes)), 1)
        return self.head(both)


def weights_init(m):
    if isinstance(m, nn.Conv2d):
        init.xavier_uniform_(m.weight.data)
        m.bias.data.zero_()


def build_crop_model(scale='single', alignsize=8, reddim=32, loadweight=True, model=None, downsample=4):
    if scale == 'single':
        return crop_model_single_scale(alignsize, reddim, loadweight, model, downsample)
    if scale == 'multi':
        return crop_model_multi_scale_shared(alignsize, reddim, loadweight, model, downsample)
