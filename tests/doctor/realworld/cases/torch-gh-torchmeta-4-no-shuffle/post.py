train_set = omniglot("./omniglot", ways=5, shots=1, meta_split='train', shuffle=True)
train_loader = BatchMetaDataLoader(train_set, batch_size=32, num_workers=2)
