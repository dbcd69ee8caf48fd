import torch.nn as nn


class Pipe(nn.Module):
    """Runs a feature extractor, then one converter (or each of a list of converters) on its output."""

    def __init__(self, feature_extractor, feature_converter):
        super().__init__()
        self.feature_extractor = feature_extractor
        self.feature_converter = feature_converter

    def forward(self, video):
        z = self.feature_extractor(video)
        heads = self.feature_converter
        return [h(z) for h in heads] if isinstance(heads, list) else heads(z)

    def preprocess(self, video):
        return self.feature_extractor.preprocess(video)

    @property
    def fps(self):
        return self.feature_extractor.fps

    @property
    def expected_frame_size(self):
        return self.feature_extractor.expected_frame_size


class LogisticRegression(nn.Sequential):
    """Linear classifier over (optionally spatially pooled) features."""

    def __init__(self, num_in, num_out, global_average_pooling=True):
        super(LogisticRegression, self).__init__(nn.Linear(num_in, num_out), nn.Softmax(dim=-1))
        self.global_average_pooling = global_average_pooling

    def forward(self, feats):
        if self.global_average_pooling:
            feats = feats.mean(dim=(-2, -1))
        return super().forward(feats)
