# The pretrained ResNet from torchvision worked for me; switching to the pretrained VGG-19 (master) gives a wrong
# top class for the caffe example cat image (644 instead of a cat class).
# Preprocessing as suggested on the forum: only the mean/std Normalize.
import os
import torch
import torch.nn.functional as F
import torchvision.models as models
from torchvision import transforms as trn
from torch.autograd import Variable
import skimage.io

norm_only = trn.Compose([
    trn.Normalize([0.485, 0.456, 0.406], [0.229, 0.224, 0.225])
])

net = models.vgg19()
net.load_state_dict(torch.load(os.path.join(weights_dir, 'vgg19-dcbb9e9d.pth')))
net.cuda()
net.eval()

pic = skimage.io.imread(img_file)          # H x W x 3
pic = center_crop_224(pic)
t = torch.from_numpy(pic.transpose([2, 0, 1])).cuda()
t = Variable(norm_only(t), volatile=True)
scores = F.softmax(net.forward(t.unsqueeze(0)), dim=1)
print(scores.max(1))
