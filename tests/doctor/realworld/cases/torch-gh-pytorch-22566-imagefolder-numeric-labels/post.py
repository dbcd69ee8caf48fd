for inputs, classes in dataloaders['val']:
    print(classes)
    imshow(torchvision.utils.make_grid(inputs))  # same helper as in the [CIFAR-10 tutorial](https://pytorch.org/tutorials/beginner/blitz/cifar10_tutorial.html)
