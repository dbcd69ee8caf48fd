"""Action Chunking Transformer (ACT) policy, after "Learning Fine-Grained Bimanual
Manipulation with Low-Cost Hardware" (https://arxiv.org/abs/2304.13705)."""

from collections import deque

import einops
import torch
import torch.nn.functional as F  # noqa: N812
import torchvision
from huggingface_hub import PyTorchModelHubMixin
from torch import Tensor, nn
from torchvision.models._utils import IntermediateLayerGetter
from torchvision.ops.misc import FrozenBatchNorm2d

from lerobot.common.policies.act.configuration_act import ACTConfig
from lerobot.common.policies.normalize import Normalize, Unnormalize


class ACTPolicy(nn.Module, PyTorchModelHubMixin):
    """ACT policy: normalization around the ACT network, plus action queueing at inference."""

    name = "act"

    def __init__(self, config: ACTConfig | None = None, dataset_stats: dict[str, dict[str, Tensor]] | None = None):
        super().__init__()
        if config is None:
            config = ACTConfig()
        self.config = config
        self.normalize_inputs = Normalize(config.input_shapes, config.input_normalization_modes, dataset_stats)
        self.normalize_targets = Normalize(config.output_shapes, config.output_normalization_modes, dataset_stats)
        self.unnormalize_outputs = Unnormalize(config.output_shapes, config.output_normalization_modes,
                                               dataset_stats)
        self.model = ACT(config)
        self.expected_image_keys = [key for key in config.input_shapes if key.startswith("observation.image")]
        self.reset()

    def reset(self):
        self._queue = deque([], maxlen=self.config.n_action_steps)

    def _stack_cameras(self, batch):
        batch = self.normalize_inputs(batch)
        batch["observation.images"] = torch.stack([batch[key] for key in self.expected_image_keys], dim=-4)
        return batch

    @torch.no_grad
    def select_action(self, batch: dict[str, Tensor]) -> Tensor:
        """Returns one action; the network is queried again when the queued chunk is used up."""
        self.eval()
        if not self._queue:
            chunk = self.model(self._stack_cameras(batch))[0][:, : self.config.n_action_steps]
            chunk = self.unnormalize_outputs({"action": chunk})["action"]
            self._queue.extend(chunk.transpose(0, 1))
        return self._queue.popleft()

    def forward(self, batch: dict[str, Tensor]) -> dict[str, Tensor]:
        """Training / validation loss."""
        batch = self.normalize_targets(self._stack_cameras(batch))
        actions_hat, (mu, log_sigma_x2) = self.model(batch)

        l1 = (F.l1_loss(batch["action"], actions_hat, reduction="none")
              * ~batch["action_is_pad"].unsqueeze(-1)).mean()
        out = {"l1_loss": l1.item()}
        if self.config.use_vae:
            kld = (-0.5 * (1 + log_sigma_x2 - mu.pow(2) - log_sigma_x2.exp())).sum(-1).mean()
            out["kld_loss"] = kld.item()
            out["loss"] = l1 + self.config.kl_weight * kld
        else:
            out["loss"] = l1
        return out


class ACT(nn.Module):
    """The network: optional VAE encoder over actions, ResNet image features, transformer encoder-decoder."""

    def __init__(self, config: ACTConfig):
        super().__init__()
        self.config = config
        d = config.dim_model
        state_dim = config.input_shapes["observation.state"][0]
        action_dim = config.output_shapes["action"][0]

        if config.use_vae:
            layer = nn.TransformerEncoderLayer(d, config.n_heads, config.dim_feedforward, config.dropout)
            self.vae_encoder = nn.TransformerEncoder(layer, config.n_vae_encoder_layers)
            self.vae_encoder_cls_embed = nn.Embedding(1, d)
            self.vae_encoder_robot_state_input_proj = nn.Linear(state_dim, d)
            self.vae_encoder_action_input_proj = nn.Linear(action_dim, d)
            self.vae_encoder_latent_output_proj = nn.Linear(d, config.latent_dim * 2)

        # image feature extractor
        backbone_model = getattr(torchvision.models, config.vision_backbone)(
            replace_stride_with_dilation=[False, False, config.replace_final_stride_with_dilation],
            weights=config.pretrained_backbone_weights,
            norm_layer=FrozenBatchNorm2d,
        )
        # ResNet assumed: layer4 is the last feature map; returns {"feature_map": ...}
        self.backbone = IntermediateLayerGetter(backbone_model, return_layers={"layer4": "feature_map"})

        self.encoder = nn.TransformerEncoder(
            nn.TransformerEncoderLayer(d, config.n_heads, config.dim_feedforward, config.dropout),
            config.n_encoder_layers)
        self.decoder = nn.TransformerDecoder(
            nn.TransformerDecoderLayer(d, config.n_heads, config.dim_feedforward, config.dropout),
            config.n_decoder_layers)

        self.encoder_robot_state_input_proj = nn.Linear(state_dim, d)
        self.encoder_latent_input_proj = nn.Linear(config.latent_dim, d)
        self.encoder_img_feat_input_proj = nn.Conv2d(backbone_model.fc.in_features, d, kernel_size=1)
        self.decoder_queries = nn.Embedding(config.chunk_size, d)
        self.action_head = nn.Linear(d, action_dim)

    def forward(self, batch: dict[str, Tensor]):
        images = batch["observation.images"]
        bsz = images.shape[0]

        if self.config.use_vae and "action" in batch:
            cls = einops.repeat(self.vae_encoder_cls_embed.weight, "1 d -> b 1 d", b=bsz)
            state = self.vae_encoder_robot_state_input_proj(batch["observation.state"]).unsqueeze(1)
            acts = self.vae_encoder_action_input_proj(batch["action"])
            tokens = torch.cat([cls, state, acts], dim=1).permute(1, 0, 2)
            params = self.vae_encoder_latent_output_proj(self.vae_encoder(tokens)[0])
            mu, log_sigma_x2 = params[:, : self.config.latent_dim], params[:, self.config.latent_dim:]
            latent = mu + log_sigma_x2.div(2).exp() * torch.randn_like(mu)
        else:
            mu = log_sigma_x2 = None
            latent = torch.zeros(bsz, self.config.latent_dim, device=images.device)

        cam_feats = [self.encoder_img_feat_input_proj(self.backbone(images[:, i])["feature_map"])
                     for i in range(images.shape[-4])]
        pixels = einops.rearrange(torch.cat(cam_feats, dim=-1), "b c h w -> (h w) b c")
        tokens = torch.cat([
            torch.stack([self.encoder_latent_input_proj(latent),
                         self.encoder_robot_state_input_proj(batch["observation.state"])]),
            pixels,
        ])
        memory = self.encoder(tokens)
        queries = self.decoder_queries.weight.unsqueeze(1).repeat(1, bsz, 1)
        actions = self.action_head(self.decoder(queries, memory).transpose(0, 1))
        return actions, (mu, log_sigma_x2)
