import torch
import torch.nn as nn
import torch.nn.functional as F
from torchvision import models


class Net(nn.Module):
    def __init__(self):
        super(Net, self).__init__()
        self.base = models.resnet18(pretrained=True)
        self.base.fc = nn.Linear(512, 10)

    def forward(self, x):
        return F.softmax(self.base(x))  # expect: double-softmax


net = Net()
criterion = nn.CrossEntropyLoss()
optimizer = torch.optim.SGD(net.parameters(), lr=0.001, momentum=0.9)
for epoch in xrange(10):
    for i, (inputs, labels) in enumerate(trainloader):
        optimizer.zero_grad()
        loss = criterion(net(inputs), labels)  # expect: double-softmax
        loss.backward()
        optimizer.step()
        if i % 100 == 0:
            print "[%d, %5d] loss: %.3f" % (epoch + 1, i + 1, loss.data[0])
print 'Finished Training'
