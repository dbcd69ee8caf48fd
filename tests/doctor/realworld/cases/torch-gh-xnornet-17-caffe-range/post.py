    norm = Normalize(mean=[0.485, 0.456, 0.406], std=[0.229, 0.224, 0.225])

    val_tf = Compose([
        Resize(256),
        CenterCrop(224),
        ToTensor(),
        norm,
    ])

    train_tf = Compose([
        RandomResizedCrop(224),
        RandomHorizontalFlip(),
        ToTensor(),
        norm,
    ])
