import torch
import torchvision.models as models
import torchvision.transforms as trn
import torchvision.datasets as dset
from torch.autograd import Variable as V

arch = 'resnet18'
model_file = 'whole_%s_places365_python36.pth.tar' % arch
model = torch.load(model_file)
model.eval()

mean = [0.485, 0.456, 0.406]
std = [0.229, 0.224, 0.225]
val_tf = trn.Compose([trn.Resize(256), trn.CenterCrop(224), trn.ToTensor(), trn.Normalize(mean, std)])

# val images were sorted into one folder per category id: places365/val/0 ... places365/val/364
val_data = dset.ImageFolder('places365/val', transform=val_tf)
val_loader = torch.utils.data.DataLoader(val_data, batch_size=128, shuffle=False, num_workers=4)

correct, seen = 0, 0
for x, y in val_loader:
    logits = model(V(x.cuda(), volatile=True))
    pred = logits.data.max(1)[1].cpu()
    correct += (pred == y).sum()
    seen += y.size(0)
print('top-1 acc: %.4f' % (correct / float(seen)))
