import torch
from collections import OrderedDict
from torch.autograd import Variable
from torchvision import transforms
from PIL import Image
import resnet


def run_net(ckpt_file, img):
    net = resnet.resnet18(num_classes=2)
    ckpt = torch.load(ckpt_file)
    renamed = OrderedDict()
    for key, val in ckpt.items():
        if key == "state_dict":
            for name, w in val.items():
                short = name.replace("backbone.", "")
                short = short.replace("head.", "")
                print(name, short)
                renamed[short] = w
    net.load_state_dict(renamed)
    net.cuda()
    net.eval()
    norm = transforms.Normalize(mean=[123.675, 116.28, 103.53], std=[58.395, 57.12, 57.375])
    prep = transforms.Compose([
        transforms.ToTensor(),
        norm
        ]
    )
    img = prep(img)
    img = Variable(img.cuda())
    img = Variable(torch.unsqueeze(img, dim=0).float(), requires_grad=False)
    with torch.no_grad():
        out = net.forward(img)
    return out


if __name__ == '__main__':
    leaf = Image.open('samples/leaf_0042.jpg')
    print(run_net('work_dirs/resnet18_leaf/latest.pth', leaf))
