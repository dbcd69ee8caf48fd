class InceptionResnetV1(nn.Module):
    """Inception-ResNet-v1 face model, optionally with pretrained VGGFace2 / CASIA-Webface weights.

    Keyword Arguments:
        pretrained {str} -- 'vggface2', 'casia-webface' or None
        classify {bool} -- return class logits instead of the 512-d embedding
        num_classes {int} -- size of the logits layer
    """
    def __init__(self, pretrained=None, classify=False, num_classes=1001, dropout_prob=0.6, device=None):
        super().__init__()

        self.pretrained = pretrained
        self.classify = classify
        self.num_classes = num_classes

        if pretrained == 'vggface2':
            n_train = 8631
        elif pretrained == 'casia-webface':
            n_train = 10575
        elif pretrained is None and self.num_classes is None:
            raise Exception('At least one of "pretrained" or "num_classes" must be specified')
        else:
            n_train = self.num_classes

        self.conv2d_1a = BasicConv2d(3, 32, kernel_size=3, stride=2)
        # ... stem, repeat_1/2/3, mixed_6a, mixed_7a, block8 ...
        self.avgpool_1a = nn.AdaptiveAvgPool2d(1)
        self.dropout = nn.Dropout(dropout_prob)
        self.last_linear = nn.Linear(1792, 512, bias=False)
        self.last_bn = nn.BatchNorm1d(512, eps=0.001, momentum=0.1, affine=True)
        self.logits = nn.Linear(512, n_train)

        if pretrained is not None:
            load_weights(self, pretrained)

        if self.num_classes is not None:
            self.logits = nn.Linear(512, self.num_classes)

        self.device = torch.device('cpu')
        if device is not None:
            self.device = device
            self.to(device)

    def forward(self, x):
        x = self.conv2d_1a(x)
        # ...
        x = self.avgpool_1a(x)
        x = self.dropout(x)
        x = self.last_linear(x.view(x.shape[0], -1))
        x = self.last_bn(x)
        if self.classify:
            x = self.logits(x)
        else:
            x = F.normalize(x, p=2, dim=1)
        return x
