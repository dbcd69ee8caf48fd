import argparse

import numpy as np
import torch
from imageio import imread, imsave
from path import Path
from scipy.misc import imresize
from tqdm import tqdm

from models import DispNetS
from utils import tensor2array

parser = argparse.ArgumentParser(description='Run a trained DispNet on a folder of images (KITTI / CityScapes)',
                                 formatter_class=argparse.ArgumentDefaultsHelpFormatter)
parser.add_argument("--pretrained", required=True, type=str, help="DispNet checkpoint")
parser.add_argument("--output-disp", action='store_true', help="write disparity maps")
parser.add_argument("--output-depth", action='store_true', help="write depth maps")
parser.add_argument("--img-height", default=128, type=int, help="input height")
parser.add_argument("--img-width", default=416, type=int, help="input width")
parser.add_argument("--no-resize", action='store_true', help="keep the original size")
parser.add_argument("--dataset-dir", default='.', type=str, help="folder with the images")
parser.add_argument("--dataset-list", default=None, type=str, help="optional list of files")
parser.add_argument("--output-dir", default='output', type=str, help="where to write")
parser.add_argument("--img-exts", default=['png', 'jpg'], nargs='*', type=str, help="extensions to glob")

device = torch.device("cuda" if torch.cuda.is_available() else "cpu")


@torch.no_grad()
def main():
    args = parser.parse_args()
    if not (args.output_disp or args.output_depth):
        print('Nothing to output: pass --output-disp and/or --output-depth')
        return

    net = DispNetS().to(device)
    ckpt = torch.load(args.pretrained)
    net.load_state_dict(ckpt['state_dict'])
    net.eval()

    root = Path(args.dataset_dir)
    out_dir = Path(args.output_dir)
    out_dir.makedirs_p()

    if args.dataset_list is None:
        files = sum([root.files('*.{}'.format(e)) for e in args.img_exts], [])
    else:
        with open(args.dataset_list) as f:
            files = [root / name for name in f.read().splitlines()]
    print('{} images'.format(len(files)))

    for path in tqdm(files):
        img = imread(path).astype(np.float32)

        h, w, _ = img.shape
        if not args.no_resize and (h, w) != (args.img_height, args.img_width):
            img = imresize(img, (args.img_height, args.img_width)).astype(np.float32)
        img = np.transpose(img, (2, 0, 1))

        x = torch.from_numpy(img).unsqueeze(0)
        x = ((x / 255 - 0.5) / 0.2).to(device)

        disp = net(x)[0]

        stem, ext = path.relpath(args.dataset_dir).splitext()
        name = '-'.join(stem.splitall())

        if args.output_disp:
            vis = (255 * tensor2array(disp, max_value=None, colormap='bone')).astype(np.uint8)
            imsave(out_dir / '{}_disp{}'.format(name, ext), np.transpose(vis, (1, 2, 0)))
        if args.output_depth:
            vis = (255 * tensor2array(1 / disp, max_value=10, colormap='rainbow')).astype(np.uint8)
            imsave(out_dir / '{}_depth{}'.format(name, ext), np.transpose(vis, (1, 2, 0)))


if __name__ == '__main__':
    main()
