transform = transforms.Compose([
    transforms.Resize((128, 128)),
    transforms.RandomVerticalFlip(),
    transforms.RandomCrop(50),
    transforms.ColorJitter(brightness=0.5, contrast=0.5, hue=0.5),
    transforms.ToTensor(),
    transforms.Normalize([0.5, 0.5, 0.5], [0.5, 0.5, 0.5])])
