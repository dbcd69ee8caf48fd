class Adapter:
    def __init__(self, cfg, model, loader):
        self.model = model
        self.loader = loader
        # keep the source classifier fixed while the features adapt
        for p in self.model.classifier.parameters():
            p.requires_grad = False
        self.optimizer = torch.optim.Adam((p for p in self.model.parameters() if p.requires_grad), lr=cfg.lr)

    def train_epoch(self):
        self.model.train()
        for images, _ in self.loader:
            loss = self.entropy_loss(self.model(images.cuda()))
            self.optimizer.zero_grad()
            loss.backward()
            self.optimizer.step()
