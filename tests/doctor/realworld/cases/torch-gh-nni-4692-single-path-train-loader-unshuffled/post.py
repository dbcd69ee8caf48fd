self.loader_train = torch.utils.data.DataLoader(self.train_set,
batch_size=bs,
num_workers=n_workers)  
