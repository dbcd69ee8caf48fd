import torch
import torch.nn as nn
import torch.optim as optim
from sklearn.metrics import accuracy_score

import sampler


class Solver:
    def __init__(self, args, test_dataloader):
        self.args = args
        self.test_dataloader = test_dataloader
        self.bce = nn.BCELoss()
        self.mse = nn.MSELoss()
        self.ce = nn.CrossEntropyLoss()
        self.sampler = sampler.AdversarySampler(self.args.budget)

    def endless(self, loader, with_labels=True):
        while True:
            for img, label, _ in loader:
                yield (img, label) if with_labels else img

    def to_dev(self, *ts):
        return [t.cuda() for t in ts] if self.args.cuda else list(ts)

    def train(self, labeled_loader, task_model, vae, discriminator, pool_loader):
        labeled = self.endless(labeled_loader)
        pool = self.endless(pool_loader, with_labels=False)

        opt_vae = optim.Adam(vae.parameters(), lr=5e-4)
        opt_task = optim.Adam(task_model.parameters(), lr=5e-4)
        opt_disc = optim.Adam(discriminator.parameters(), lr=5e-4)

        task_model.train()
        vae.train()
        discriminator.train()

        decay_every = self.args.train_iterations // 25

        for it in range(self.args.train_iterations):
            if it > 0 and it % decay_every == 0:
                for opt in (opt_vae, opt_task, opt_disc):
                    for g in opt.param_groups:
                        g['lr'] *= 0.9

            x_lab, y_lab = next(labeled)
            x_pool = next(pool)
            x_lab, y_lab, x_pool = self.to_dev(x_lab, y_lab, x_pool)

            # classifier update
            task_loss = self.ce(task_model(x_lab), y_lab)
            opt_task.zero_grad()
            task_loss.backward()
            opt_task.step()

            # VAE updates
            for k in range(self.args.num_vae_steps):
                rec, _, mu, logvar = vae(x_lab)
                rec_u, _, mu_u, logvar_u = vae(x_pool)
                recon_loss = self.vae_loss(x_lab, rec, mu, logvar, self.args.beta) + \
                    self.vae_loss(x_pool, rec_u, mu_u, logvar_u, self.args.beta)
                adv = self.bce(discriminator(mu), torch.ones(x_lab.size(0))) + \
                    self.bce(discriminator(mu_u), torch.ones(x_pool.size(0)))
                vae_total = recon_loss + self.args.adversary_param * adv
                opt_vae.zero_grad()
                vae_total.backward()
                opt_vae.step()
                if k < self.args.num_vae_steps - 1:
                    x_lab, _ = next(labeled)
                    x_pool = next(pool)
                    x_lab, x_pool = self.to_dev(x_lab, x_pool)

            # discriminator updates
            for k in range(self.args.num_adv_steps):
                with torch.no_grad():
                    _, _, mu, _ = vae(x_lab)
                    _, _, mu_u, _ = vae(x_pool)
                disc_loss = self.bce(discriminator(mu), torch.ones(x_lab.size(0))) + \
                    self.bce(discriminator(mu_u), torch.zeros(x_pool.size(0)))
                opt_disc.zero_grad()
                disc_loss.backward()
                opt_disc.step()
                if k < self.args.num_adv_steps - 1:
                    x_lab, _ = next(labeled)
                    x_pool = next(pool)
                    x_lab, x_pool = self.to_dev(x_lab, x_pool)

            if it % 500 == 0:
                print('iter {}: task {:.4f}  vae {:.4f}  disc {:.4f}'.format(
                    it, task_loss.item(), vae_total.item(), disc_loss.item()))

        acc = self.test(task_model)
        return acc, vae, discriminator

    def sample_for_labeling(self, vae, discriminator, pool_loader):
        return self.sampler.sample(vae, discriminator, pool_loader, self.args.cuda)

    def test(self, task_model):
        seen, hits = 0, 0
        for x, y in self.test_dataloader:
            if self.args.cuda:
                x = x.cuda()
            with torch.no_grad():
                out = task_model(x)
            pred = torch.argmax(out, dim=1).cpu().numpy()
            hits += accuracy_score(y, pred, normalize=False)
            seen += x.size(0)
        return hits / seen * 100

    def vae_loss(self, x, rec, mu, logvar, beta):
        kld = -0.5 * torch.sum(1 + logvar - mu.pow(2) - logvar.exp())
        return self.mse(rec, x) + beta * kld
