class Adapter:
    def __init__(self, cfg, model, loader):
        self.model = model
        self.loader = loader
        # keep the source classifier fixed while the features adapt
        self.model.classifier.requires_grad = False  # expect: trainable-not-applied
        self.optimizer = torch.optim.Adam(self.model.parameters(), lr=cfg.lr)

    def train_epoch(self):
        self.model.train()
        for images, _ in self.loader:
            loss = self.entropy_loss(self.model(images.cuda()))
            self.optimizer.zero_grad()
            loss.backward()
            self.optimizer.step()
