from torchvision import datasets, transforms
import torch

tfm = transforms.Compose([transforms.Resize((224, 224)), transforms.ToTensor()])
train_set = datasets.ImageFolder('data/train', transform=tfm)   # folders 1 ... 100
loader = torch.utils.data.DataLoader(train_set, batch_size=32, shuffle=True)

for imgs, lbls in loader:
    print(lbls[:8])
    break

# after training: read the class of a prediction as the folder number
net.eval()
with torch.no_grad():
    out = net(img.unsqueeze(0))
    pred = out.argmax(1).item()
print('predicted folder:', pred + 1)
