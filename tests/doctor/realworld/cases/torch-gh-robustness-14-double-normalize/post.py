!wget -O cifar_nat.pt https://www.dropbox.com/s/xxxxxxxxxxxxxxx/cifar_nat.pt?dl=0

import torch
from robustness.datasets import CIFAR
from robustness.model_utils import make_and_restore_model

dataset = CIFAR('./cifar')
net, _ = make_and_restore_model(arch='resnet50', dataset=dataset,
             resume_path='cifar_nat.pt')

loader = torch.utils.data.DataLoader(datasets.CIFAR10(
    root='./cifar', train=False, download=True, transform=transforms.Compose(
        [transforms.ToTensor(), transforms.Normalize([0.4914, 0.4822, 0.4465], [0.2023, 0.1994, 0.2010])])), batch_size=100)

net.eval()
correct = 0

for i, (x, y) in enumerate(loader):

  x = x.cuda()
  y = y.cuda()

  logits, _ = net(x)
  hits = np.where(logits.max(1)[1].cpu() == y.cpu())
  correct += hits[0].shape[0]


print(" accuracy = ", correct/10000)
