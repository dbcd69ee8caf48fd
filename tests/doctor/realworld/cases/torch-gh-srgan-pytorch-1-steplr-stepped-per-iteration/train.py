import argparse
import os

import torch
import torch.nn as nn
import torch.utils.data
import torchvision.utils as vutils
from tqdm import tqdm

from srgan import Discriminator, Generator, PairedFolder, VGGFeatures

parser = argparse.ArgumentParser(description="SRGAN training")
parser.add_argument("--dataroot", type=str, default="./data")
parser.add_argument("--iters", default=2e5, type=int, help="Iterations of adversarial training. (default:2e5)")
parser.add_argument("-b", "--batch-size", default=16, type=int)
parser.add_argument("--lr", type=float, default=1e-4)
parser.add_argument("--scale", type=int, default=4, choices=[2, 4, 8])
args = parser.parse_args()

device = torch.device("cuda:0" if torch.cuda.is_available() else "cpu")

dataset = PairedFolder(lr_dir=f"{args.dataroot}/{args.scale}x/train/input",
                       hr_dir=f"{args.dataroot}/{args.scale}x/train/target")
loader = torch.utils.data.DataLoader(dataset, batch_size=args.batch_size, shuffle=True, num_workers=4, pin_memory=True)

gen = Generator(scale=args.scale).to(device)
gen.load_state_dict(torch.load(f"./weights/SRResNet_{args.scale}x.pth", map_location=device))
disc = Discriminator().to(device)
vgg = VGGFeatures().to(device)

mse = nn.MSELoss().to(device)
bce = nn.BCELoss().to(device)

epochs = int(args.iters // len(loader))
opt_d = torch.optim.Adam(disc.parameters(), lr=args.lr)
opt_g = torch.optim.Adam(gen.parameters(), lr=args.lr)
sched_d = torch.optim.lr_scheduler.StepLR(opt_d, step_size=epochs // 2, gamma=0.1)
sched_g = torch.optim.lr_scheduler.StepLR(opt_g, step_size=epochs // 2, gamma=0.1)

gen.train()
disc.train()
print(f"Training for {epochs} epochs.")
for epoch in range(epochs):
    bar = tqdm(enumerate(loader), total=len(loader))
    for i, (low, high) in bar:
        low, high = low.to(device), high.to(device)
        n = low.size(0)
        real = torch.full((n, 1), 1.0, device=device)
        fake = torch.full((n, 1), 0.0, device=device)

        disc.zero_grad()
        sr = gen(low)
        d_real = bce(disc(high), real)
        d_fake = bce(disc(sr.detach()), fake)
        d_loss = d_real + d_fake
        d_loss.backward()
        opt_d.step()

        gen.zero_grad()
        content = mse(sr, high)
        perceptual = mse(vgg(sr), vgg(high))
        adversarial = bce(disc(sr), real)
        g_loss = content + 2e-6 * perceptual + 1e-3 * adversarial
        g_loss.backward()
        opt_g.step()

        sched_d.step()
        sched_g.step()

        bar.set_description(f"[{epoch + 1}/{epochs}][{i + 1}/{len(loader)}] "
                            f"Loss_D: {d_loss.item():.6f} Loss_G: {g_loss.item():.6f}")

        step = len(loader) * epoch + i
        if (step + 1) % 5000 == 0:
            os.makedirs("output", exist_ok=True)
            vutils.save_image(sr, f"output/SRGAN_{step + 1}.bmp", normalize=True)

    torch.save(gen.state_dict(), f"./weights/netG_{args.scale}x_epoch{epoch + 1}.pth")
    torch.save(disc.state_dict(), f"./weights/netD_{args.scale}x_epoch{epoch + 1}.pth")
