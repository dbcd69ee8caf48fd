import super_gradients
from super_gradients import Trainer
from super_gradients.training import MultiGPUMode
from super_gradients.training import models
from super_gradients.training.dataloaders import imagenet_train, imagenet_val
from super_gradients.training.metrics import Accuracy

super_gradients.init_trainer()

loader_params = {"batch_size": 192}

training_params = {
    "max_epochs": 1,
    "initial_lr": 0.001,
    "optimizer": "SGD",
    "optimizer_params": {"weight_decay": 0.0001, "momentum": 0.9, "nesterov": True},
    "loss": "cross_entropy",
    "train_metrics_list": [Accuracy()],
    "valid_metrics_list": [Accuracy()],
    "loss_logging_items_names": ["Loss"],
    "metric_to_watch": "Accuracy",
    "greater_metric_to_watch_is_better": True,
}

train_loader = imagenet_train(dataloader_params=loader_params)
val_loader = imagenet_val(dataloader_params={"batch_size": 192})

trainer = Trainer(experiment_name="resnet18_imagenet_ft", multi_gpu=MultiGPUMode.OFF, device="cuda")
net = models.get("resnet18", num_classes=1000, pretrained_weights="imagenet")

trainer.train(model=net, training_params=training_params,
              train_loader=train_loader, valid_loader=val_loader)
