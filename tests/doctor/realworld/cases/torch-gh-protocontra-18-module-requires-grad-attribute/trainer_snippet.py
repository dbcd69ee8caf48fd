class SourceFreeAdapter(object):
    def __init__(self, cfg, model, train_loader):
        self.cfg = cfg
        self.model = model
        self.train_loader = train_loader

        # keep the source classifier fixed during the prototype alignment stage
        self.model.outc.requires_grad = False

        self.optimizer = torch.optim.Adam(self.model.parameters(), lr=cfg['lr'], betas=(0.9, 0.99))

    def train_epoch(self):
        self.model.train()
        for img, _ in self.train_loader:
            img = img.cuda()
            feat, logits = self.model(img, return_feature=True)
            loss = self.proto_align_loss(feat, logits)
            self.optimizer.zero_grad()
            loss.backward()
            self.optimizer.step()
