import torch
import torch.nn.functional as F
from torch.optim import Adam
from networks.salnet import build_model   # ResNet-50 encoder initialised from ImageNet


class Solver:
    def __init__(self, train_loader, cfg):
        self.loader = train_loader          # batch_size=1, images keep their own size
        self.cfg = cfg
        self.net = build_model("resnet").cuda()
        self.net.base.load_pretrained_model(torch.load(cfg.pretrained_resnet))
        self.opt = Adam(filter(lambda p: p.requires_grad, self.net.parameters()), lr=cfg.lr, weight_decay=cfg.wd)
        self.iter_size = 10

    def train(self):
        n_iter = len(self.loader.dataset) // self.cfg.batch_size
        for epoch in range(self.cfg.epochs):
            self.net.train()
            total = 0.0
            self.opt.zero_grad()
            for i, (img, mask) in enumerate(self.loader):
                img, mask = img.cuda(), mask.cuda()
                pred = self.net(img)
                loss = F.binary_cross_entropy_with_logits(pred, mask, reduction="sum") / self.iter_size
                loss.backward()
                total += loss.item()
                if (i + 1) % self.iter_size == 0:
                    self.opt.step()
                    self.opt.zero_grad()
            print(f"epoch {epoch}: loss {total / n_iter:.4f}")
            torch.save(self.net.state_dict(), f"{self.cfg.save_dir}/epoch_{epoch}.pth")
