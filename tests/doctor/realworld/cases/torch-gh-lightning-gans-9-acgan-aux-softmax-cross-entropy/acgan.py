import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from pytorch_lightning.core import LightningModule


class Generator(nn.Module):
    def __init__(self, latent_dim, img_shape, n_classes):
        super().__init__()
        self.init_size = img_shape[1] // 4
        self.label_emb = nn.Embedding(n_classes, latent_dim)
        self.l1 = nn.Linear(latent_dim, 128 * self.init_size ** 2)
        self.conv_blocks = nn.Sequential(
            nn.BatchNorm2d(128),
            nn.Upsample(scale_factor=2),
            nn.Conv2d(128, 64, 3, stride=1, padding=1),
            nn.LeakyReLU(0.2, inplace=True),
            nn.Upsample(scale_factor=2),
            nn.Conv2d(64, img_shape[0], 3, stride=1, padding=1),
            nn.Tanh(),
        )

    def forward(self, z, labels):
        out = self.l1(torch.mul(self.label_emb(labels), z))
        return self.conv_blocks(out.view(out.shape[0], 128, self.init_size, self.init_size))


class Discriminator(nn.Module):
    def __init__(self, img_shape, n_classes):
        super().__init__()
        self.model = nn.Sequential(
            nn.Conv2d(img_shape[0], 32, 3, 2, 1), nn.LeakyReLU(0.2, inplace=True), nn.Dropout2d(0.25),
            nn.Conv2d(32, 64, 3, 2, 1), nn.LeakyReLU(0.2, inplace=True), nn.Dropout2d(0.25),
            nn.BatchNorm2d(64, 0.8),
        )
        ds_size = img_shape[1] // 2 ** 2
        self.adv_layer = nn.Sequential(nn.Linear(64 * ds_size ** 2, 1), nn.Sigmoid())
        self.aux_layer = nn.Sequential(nn.Linear(64 * ds_size ** 2, n_classes), nn.Softmax())

    def forward(self, img):
        out = self.model(img).view(img.shape[0], -1)
        return self.adv_layer(out), self.aux_layer(out)


class ACGAN(LightningModule):
    def __init__(self, latent_dim=100, n_classes=10, lr=0.0002, b1=0.5, b2=0.999, batch_size=64):
        super().__init__()
        self.save_hyperparameters()
        img_shape = (1, 32, 32)
        self.generator = Generator(latent_dim, img_shape, n_classes)
        self.discriminator = Discriminator(img_shape, n_classes)

    def forward(self, z, labels):
        return self.generator(z, labels)

    def adversarial_loss(self, y_hat, y):
        return F.binary_cross_entropy(y_hat, y)

    def auxiliary_loss(self, y_hat, y):
        return F.cross_entropy(y_hat, y)

    def training_step(self, batch, batch_idx, optimizer_idx):
        imgs, labels = batch
        z = torch.randn(imgs.shape[0], self.hparams.latent_dim).type_as(imgs)
        gen_labels = torch.LongTensor(np.random.randint(0, self.hparams.n_classes, imgs.shape[0]))
        valid = torch.ones(imgs.size(0), 1).type_as(imgs)
        fake = torch.zeros(imgs.size(0), 1).type_as(imgs)

        if optimizer_idx == 0:
            validity, pred_label = self.discriminator(self(z, gen_labels))
            g_loss = 0.5 * self.adversarial_loss(validity, valid) + self.auxiliary_loss(pred_label, gen_labels)
            return {'loss': g_loss}

        if optimizer_idx == 1:
            validity, pred_label = self.discriminator(imgs)
            real_loss = 0.5 * self.adversarial_loss(validity, valid) + self.auxiliary_loss(pred_label, labels)
            fake_validity, fake_pred_label = self.discriminator(self(z, gen_labels).detach())
            fake_loss = 0.5 * self.adversarial_loss(fake_validity, fake) + self.auxiliary_loss(fake_pred_label, gen_labels)
            return {'loss': (real_loss + fake_loss) / 2}

    def configure_optimizers(self):
        hp = self.hparams
        opt_g = torch.optim.Adam(self.generator.parameters(), lr=hp.lr, betas=(hp.b1, hp.b2))
        opt_d = torch.optim.Adam(self.discriminator.parameters(), lr=hp.lr, betas=(hp.b1, hp.b2))
        return [opt_g, opt_d], []
