trainloader = torch.utils.data.DataLoader(train_data, batch_size=32, shuffle=False)
