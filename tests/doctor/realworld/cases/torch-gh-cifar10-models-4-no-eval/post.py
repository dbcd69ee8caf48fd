model = cifar10_models.resnet50(pretrained=True)

cifar_mean = np.array([0.4914, 0.4822, 0.4465])
cifar_std = np.array([0.2023, 0.1994, 0.2010])

self.norm = transforms.Normalize(mean=cifar_mean, std=cifar_std)

self.loader = DataLoader(
            datasets.ImageFolder(train_root, transform=transforms.Compose([
                transforms.RandomHorizontalFlip(),
                transforms.RandomCrop(32, padding=4),
                transforms.ToTensor(),
                self.norm,
            ])),
            batch_size=1, shuffle=True,
            num_workers=2, pin_memory=True)
