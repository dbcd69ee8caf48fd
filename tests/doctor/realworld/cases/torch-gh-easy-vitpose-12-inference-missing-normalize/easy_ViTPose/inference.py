import cv2
import numpy as np
import torch

from .vit_models.model import ViTPose
from .vit_utils.top_down_eval import keypoints_from_heatmaps


class VitInference:
    def __init__(self, model, yolo=None, model_name=None, device=None):
        self.device = device or ('cuda' if torch.cuda.is_available() else 'cpu')
        self.target_size = (192, 256)
        self._vit_pose = ViTPose(model_cfg)
        ckpt = torch.load(model, map_location='cpu')
        self._vit_pose.load_state_dict(ckpt['state_dict'] if 'state_dict' in ckpt else ckpt)
        self._vit_pose.eval().to(self.device)

    def pre_img(self, img):
        org_h, org_w = img.shape[:2]
        img_input = cv2.resize(img, self.target_size, interpolation=cv2.INTER_LINEAR) / 255
        img_input = torch.from_numpy(img_input.transpose(2, 0, 1)).unsqueeze(0).float().to(self.device)
        return img_input, org_h, org_w

    @torch.no_grad()
    def _inference(self, img):
        img_input, org_h, org_w = self.pre_img(img)
        heatmaps = self._vit_pose(img_input).detach().cpu().numpy()
        points, prob = keypoints_from_heatmaps(heatmaps=heatmaps, center=np.array([[org_w // 2, org_h // 2]]),
                                               scale=np.array([[org_w, org_h]]), unbiased=True, use_udp=True)
        return np.concatenate([points[:, :, ::-1], prob], axis=2)
