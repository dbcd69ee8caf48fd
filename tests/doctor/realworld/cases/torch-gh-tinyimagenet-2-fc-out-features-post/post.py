model_ft = models.resnet18()
model_ft.conv1 = nn.Conv2d(3, 64, kernel_size=(3, 3), stride=(1, 1), padding=(1, 1), bias=False)
model_ft.maxpool = nn.Sequential()
model_ft.avgpool = nn.AdaptiveAvgPool2d(1)
model_ft.fc.out_features = 200

device = torch.device("cuda:0" if torch.cuda.is_available() else "cpu")
model_ft = model_ft.to(device)

model_ft.load_state_dict(torch.load('./checkpoints/resnet18_tiny_best.pt',
                               map_location=torch.device('cpu')))

img_path = 'tiny-imagenet-200/val/images/val_117.JPEG'
img = plt.imread(img_path)
plt.imshow(img)

img = np.transpose(img, (2, 0, 1))
img.reshape((1, 3, 64, 64))

inp = Variable(torch.from_numpy(img)).float()
inp = inp.view(1, 3, 64, 64)

model_ft.eval()

out = model_ft(inp)
scores = out.detach().numpy()
