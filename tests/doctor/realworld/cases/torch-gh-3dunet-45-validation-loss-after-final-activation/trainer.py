class UNet3DTrainer:
    def __init__(self, model, optimizer, lr_scheduler, loss_criterion, eval_criterion, device, loaders,
                 checkpoint_dir, max_num_epochs=100, max_num_iterations=1e5, validate_after_iters=100,
                 log_after_iters=100, eval_score_higher_is_better=True, **kwargs):
        self.model = model
        self.optimizer = optimizer
        self.scheduler = lr_scheduler
        self.loss_criterion = loss_criterion
        self.eval_criterion = eval_criterion
        self.device = device
        self.loaders = loaders
        self.checkpoint_dir = checkpoint_dir
        self.max_num_epochs = max_num_epochs
        self.max_num_iterations = max_num_iterations
        self.validate_after_iters = validate_after_iters
        self.log_after_iters = log_after_iters
        self.num_iterations = 1

    def train(self, train_loader):
        train_losses = RunningAverage()
        self.model.train()
        for i, t in enumerate(train_loader):
            input, target, weight = self._split_training_batch(t)
            output, loss = self._forward_pass(input, target, weight)
            train_losses.update(loss.item(), self._batch_size(input))
            self.optimizer.zero_grad()
            loss.backward()
            self.optimizer.step()

            if self.num_iterations % self.validate_after_iters == 0:
                self.model.eval()
                eval_score = self.validate(self.loaders['val'])
                self.model.train()
                self.scheduler.step(eval_score)

            if self.num_iterations % self.log_after_iters == 0:
                # the model returns logits in training mode, normalise them for the metric
                if hasattr(self.model, 'final_activation') and self.model.final_activation is not None:
                    output = self.model.final_activation(output)
                eval_score = self.eval_criterion(output, target)
                self._log_stats('train', train_losses.avg, eval_score)
            self.num_iterations += 1

    def validate(self, val_loader):
        val_losses = RunningAverage()
        val_scores = RunningAverage()
        with torch.no_grad():
            for i, t in enumerate(val_loader):
                input, target, weight = self._split_training_batch(t)
                output, loss = self._forward_pass(input, target, weight)
                val_losses.update(loss.item(), self._batch_size(input))
                eval_score = self.eval_criterion(output, target)
                val_scores.update(eval_score.item(), self._batch_size(input))
        self._log_stats('val', val_losses.avg, val_scores.avg)
        return val_scores.avg

    def _forward_pass(self, input, target, weight=None):
        output = self.model(input)
        if weight is None:
            loss = self.loss_criterion(output, target)
        else:
            loss = self.loss_criterion(output, target, weight)
        return output, loss
