import argparse

import timm
import torch
import torchvision.datasets as datasets
import torchvision.transforms as transforms

parser = argparse.ArgumentParser()
parser.add_argument("--data_corruption", default="/data/imagenet-c")
parser.add_argument("--corruption", default="gaussian_noise")
parser.add_argument("--level", type=int, default=5)
parser.add_argument("--batch_size", type=int, default=64)
args = parser.parse_args()

normalize = transforms.Normalize(mean=[0.485, 0.456, 0.406], std=[0.229, 0.224, 0.225])
te_transforms = transforms.Compose([
    transforms.Resize(256),
    transforms.CenterCrop(224),
    transforms.ToTensor(),
    normalize,
])

root = f"{args.data_corruption}/{args.corruption}/{args.level}"
test_set = datasets.ImageFolder(root, te_transforms)
test_loader = torch.utils.data.DataLoader(test_set, batch_size=args.batch_size, shuffle=False, num_workers=4)

net = timm.create_model("vit_base_patch16_224", pretrained=True)
net = net.cuda()
net.eval()

correct, total = 0, 0
with torch.no_grad():
    for images, targets in test_loader:
        images, targets = images.cuda(), targets.cuda()
        outputs = net(images)
        correct += (outputs.argmax(1) == targets).sum().item()
        total += targets.size(0)

print(f"no_adapt {args.corruption} level {args.level}: acc {100.0 * correct / total:.2f}")
