"""Evaluate a (fine-tuned) timm checkpoint on a validation folder: eval mode, no grad, the
model's own eval transform, top-1 and top-5."""
import argparse
import time

import timm
import torch
from timm.data import create_dataset, create_loader, resolve_data_config
from timm.utils import AverageMeter, accuracy


def validate(args):
    device = torch.device(args.device)
    model = timm.create_model(
        args.model, pretrained=args.pretrained, num_classes=args.num_classes,
        checkpoint_path=args.checkpoint,
    )
    model = model.to(device)
    model.eval()

    data_config = resolve_data_config(vars(args), model=model)
    dataset = create_dataset(root=args.data, name="", split=args.split)
    loader = create_loader(
        dataset,
        input_size=data_config["input_size"],
        batch_size=args.batch_size,
        is_training=False,
        interpolation=data_config["interpolation"],
        mean=data_config["mean"],
        std=data_config["std"],
        num_workers=args.workers,
        crop_pct=data_config["crop_pct"],
        device=device,
    )
    criterion = torch.nn.CrossEntropyLoss().to(device)
    batch_time, losses, top1, top5 = AverageMeter(), AverageMeter(), AverageMeter(), AverageMeter()
    end = time.time()
    with torch.no_grad():
        for batch_idx, (inp, target) in enumerate(loader):
            output = model(inp)
            loss = criterion(output, target)
            acc1, acc5 = accuracy(output, target, topk=(1, min(5, args.num_classes)))
            losses.update(loss.item(), inp.size(0))
            top1.update(acc1.item(), inp.size(0))
            top5.update(acc5.item(), inp.size(0))
            batch_time.update(time.time() - end)
            end = time.time()
            if batch_idx % 10 == 0:
                print(f"Test: [{batch_idx}/{len(loader)}] Loss: {losses.val:.4f} ({losses.avg:.4f}) "
                      f"Acc@1: {top1.val:.3f} ({top1.avg:.3f}) Acc@5: {top5.val:.3f} ({top5.avg:.3f})")
    print(f" * Acc@1 {top1.avg:.3f} ({100 - top1.avg:.3f}) Acc@5 {top5.avg:.3f} ({100 - top5.avg:.3f})")
    return {"top1": top1.avg, "top5": top5.avg, "loss": losses.avg}


if __name__ == "__main__":
    p = argparse.ArgumentParser()
    p.add_argument("data")
    p.add_argument("--model", default="resnet50.a1_in1k")
    p.add_argument("--split", default="validation")
    p.add_argument("--checkpoint", default="")
    p.add_argument("--pretrained", action="store_true")
    p.add_argument("--num-classes", type=int, default=1000)
    p.add_argument("-b", "--batch-size", type=int, default=256)
    p.add_argument("-j", "--workers", type=int, default=4)
    p.add_argument("--device", default="cuda")
    print(validate(p.parse_args()))
