preprocess = transforms.Compose([transforms.ToTensor(),
                                 transforms.Normalize(mean=[0.406, 0.456, 0.486], std=[0.225, 0.224, 0.229])])
img = preprocess(PILImage.open('pets.jpg').convert("RGB")).unsqueeze(0)
out = model(img)
plt.imshow(out.squeeze(0).detach().numpy().argmax(0))
plt.show()
