class VolumeTrainer:
    def __init__(self, model, optimizer, loss_criterion, eval_criterion, loaders, validate_every=200):
        self.model = model
        self.optimizer = optimizer
        self.loss_criterion = loss_criterion
        self.eval_criterion = eval_criterion
        self.loaders = loaders
        self.validate_every = validate_every
        self.step = 0

    def run_epoch(self):
        self.model.train()
        for batch in self.loaders["train"]:
            vol, target = self._to_device(batch)
            out = self.model(vol)
            loss = self.loss_criterion(out, target)
            self.optimizer.zero_grad()
            loss.backward()
            self.optimizer.step()
            self.step += 1
            if self.step % self.validate_every == 0:
                score = self.validate()
                self._maybe_save(score)

    def validate(self):
        losses, scores = [], []
        with torch.no_grad():
            for batch in self.loaders["val"]:
                vol, target = self._to_device(batch)
                out = self.model(vol)
                losses.append(self.loss_criterion(out, target).item())
                if self.model.final_activation is not None:
                    out = self.model.final_activation(out)
                scores.append(self.eval_criterion(out, target).item())
        return sum(scores) / len(scores)
