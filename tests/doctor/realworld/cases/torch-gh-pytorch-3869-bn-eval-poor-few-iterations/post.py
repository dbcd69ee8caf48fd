class SegNet(nn.Module):
    def __init__(self):
        super(SegNet, self).__init__()
        self.conv1 = nn.Conv2d(3, 32, 3, padding=1)
        self.bn1 = nn.BatchNorm2d(32)
        self.conv2 = nn.Conv2d(32, 64, 3, padding=1)
        self.bn2 = nn.BatchNorm2d(64)
        self.drop = nn.Dropout2d(0.3)
        self.out = nn.Conv2d(64, 2, 1)

    def forward(self, x):
        x = F.relu(self.bn1(self.conv1(x)))
        x = self.drop(F.relu(self.bn2(self.conv2(x))))
        return self.out(x)

net = SegNet().cuda()
opt = torch.optim.Adam(net.parameters(), lr=1e-3)
for it in range(300):
    img, mask = next(train_iter)
    img, mask = Variable(img.cuda()), Variable(mask.cuda())
    loss = F.cross_entropy(net(img), mask)
    opt.zero_grad()
    loss.backward()
    opt.step()

# test
net.eval()
for img, mask in test_loader:
    pred = net(Variable(img.cuda(), volatile=True))
    print(iou(pred, mask))
# with net.eval(): IoU ~0.2 ; without net.eval() (left in train mode): IoU ~0.8
