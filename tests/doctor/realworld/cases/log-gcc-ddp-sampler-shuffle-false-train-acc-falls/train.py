trainsampler = DistributedSampler(train, shuffle=False)
trainloader = DataLoader(train, batch_size=128, num_workers=6, sampler=trainsampler)
