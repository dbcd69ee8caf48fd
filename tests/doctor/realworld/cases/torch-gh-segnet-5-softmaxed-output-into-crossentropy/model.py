import torch
import torch.nn as nn
import torch.nn.functional as F


class SegNet(nn.Module):
    """SegNet: a VGG16-style encoder and a mirrored decoder."""

    def __init__(self, input_channels, output_channels):
        super(SegNet, self).__init__()
        self.input_channels = input_channels
        self.output_channels = output_channels

        self.encoder_conv_00 = nn.Sequential(nn.Conv2d(self.input_channels, 64, kernel_size=3, padding=1),
                                             nn.BatchNorm2d(64))
        self.encoder_conv_01 = nn.Sequential(nn.Conv2d(64, 64, kernel_size=3, padding=1),
                                             nn.BatchNorm2d(64))
        self.encoder_conv_10 = nn.Sequential(nn.Conv2d(64, 128, kernel_size=3, padding=1),
                                             nn.BatchNorm2d(128))
        self.encoder_conv_11 = nn.Sequential(nn.Conv2d(128, 128, kernel_size=3, padding=1),
                                             nn.BatchNorm2d(128))

        self.decoder_convtr_11 = nn.Sequential(nn.ConvTranspose2d(128, 128, kernel_size=3, padding=1),
                                               nn.BatchNorm2d(128))
        self.decoder_convtr_10 = nn.Sequential(nn.ConvTranspose2d(128, 64, kernel_size=3, padding=1),
                                               nn.BatchNorm2d(64))
        self.decoder_convtr_01 = nn.Sequential(nn.ConvTranspose2d(64, 64, kernel_size=3, padding=1),
                                               nn.BatchNorm2d(64))
        self.decoder_convtr_00 = nn.Sequential(nn.ConvTranspose2d(64, self.output_channels, kernel_size=3, padding=1))

    def forward(self, input_img):
        # Encoder stage 0
        x_00 = F.relu(self.encoder_conv_00(input_img))
        x_01 = F.relu(self.encoder_conv_01(x_00))
        x_0, indices_0 = F.max_pool2d(x_01, kernel_size=2, stride=2, return_indices=True)

        # Encoder stage 1
        x_10 = F.relu(self.encoder_conv_10(x_0))
        x_11 = F.relu(self.encoder_conv_11(x_10))
        x_1, indices_1 = F.max_pool2d(x_11, kernel_size=2, stride=2, return_indices=True)

        # Decoder stage 1
        x_1d = F.max_unpool2d(x_1, indices_1, kernel_size=2, stride=2)
        x_11d = F.relu(self.decoder_convtr_11(x_1d))
        x_10d = F.relu(self.decoder_convtr_10(x_11d))

        # Decoder stage 0
        x_0d = F.max_unpool2d(x_10d, indices_0, kernel_size=2, stride=2)
        x_01d = F.relu(self.decoder_convtr_01(x_0d))
        x_00d = self.decoder_convtr_00(x_01d)

        x_softmax = F.softmax(x_00d, dim=1)

        return x_00d, x_softmax
