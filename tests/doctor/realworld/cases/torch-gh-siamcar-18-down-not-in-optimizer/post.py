    base_lr = cfg.TRAIN.BASE_LR
    param_groups = []
    param_groups.append({'params': [p for p in model.backbone.parameters() if p.requires_grad],
                         'lr': base_lr * cfg.BACKBONE.LAYERS_LR})
    if cfg.ADJUST.ADJUST:
        param_groups.append({'params': model.neck.parameters(), 'lr': base_lr})
    param_groups.append({'params': model.car_head.parameters(), 'lr': base_lr})

    optimizer = torch.optim.SGD(param_groups, momentum=cfg.TRAIN.MOMENTUM,
                                weight_decay=cfg.TRAIN.WEIGHT_DECAY)
