class BaseDataset(Dataset):
    def __init__(self, dataset, mode, model_type='smpl', normalize=False):
        self.dataset = dataset
        self.mode = mode
        self.data = np.load(DATASET_FILES[mode][dataset], allow_pickle=True)
        self.images = self.data['imgname']
        self.normalize_img = Normalize(mean=constants.IMG_NORM_MEAN, std=constants.IMG_NORM_STD)

    def __getitem__(self, index):
        img = cv2.imread(self.images[index])[:, :, ::-1].copy().astype(np.float32)
        img = cv2.resize(img, (256, 256), cv2.INTER_CUBIC)
        img = torch.from_numpy(img.transpose(2, 0, 1) / 255.0).float()
        img = self.normalize_img(img)
        return {'img': img, 'contact_label_3d': self.data['contact_label'][index]}
