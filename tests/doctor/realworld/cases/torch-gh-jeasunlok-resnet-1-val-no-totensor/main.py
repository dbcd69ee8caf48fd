import os
import time
import numpy as np
import torch
import torch.nn as nn
from torch.utils.data import DataLoader

from model.ResNet import *
from utils.dataloader import *
from utils.utils import *
from train import *
from test import *

if __name__ == "__main__":
    classes_txt = 'dataset/cls_classes.txt'
    use_cuda = False
    input_shape = [224, 224]
    pretrained = False
    weights_path = ""
    epochs = 40
    lr = 0.005
    batch_size = 16
    save_every = epochs // 4
    train_txt = "images/cls_train.txt"
    val_txt = "images/cls_val.txt"
    test_txt = "images/cls_test.txt"

    device = torch.device("cuda") if use_cuda and torch.cuda.is_available() else "cpu"

    stamp = time.strftime("%Y%m%d-%H%M%S", time.localtime())
    log_dir = os.path.join('logs', stamp)
    ckpt_dir = os.path.join('checkpoints', stamp)
    os.makedirs(log_dir)
    os.makedirs(ckpt_dir)

    class_names, num_classes = get_classes(classes_txt)
    model = resnet34(num_classes=num_classes)
    if pretrained:
        model.load_state_dict(torch.load(weights_path))
    else:
        # 卷积层和全连接层用 kaiming 初始化
        for m in model.modules():
            if isinstance(m, (nn.Conv2d, nn.Linear)):
                nn.init.kaiming_normal_(m.weight, mode='fan_in')
    model = model.to(device)

    # 读取划分好的 txt 列表
    with open(train_txt, encoding="utf-8") as f:
        train_lines = f.readlines()
    with open(val_txt, encoding="utf-8") as f:
        val_lines = f.readlines()
    with open(test_txt, encoding="utf-8") as f:
        test_lines = f.readlines()
    np.random.seed(2024)
    np.random.shuffle(train_lines)
    print("train:", len(train_lines), "val:", len(val_lines), "test:", len(test_lines))

    optimizer = torch.optim.SGD(model.parameters(), lr=lr, momentum=0.9, weight_decay=1e-4)
    scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=epochs // 8, gamma=0.9)
    criterion = nn.CrossEntropyLoss()

    train_tf = get_transform(input_shape, IsTotensor=True, IsRandomHorizontalFlip=True)
    train_set = MyDataset(train_lines, input_shape=input_shape, transform=train_tf)
    val_set = MyDataset(val_lines, input_shape=input_shape)
    test_set = MyDataset(test_lines, input_shape=input_shape)

    train_loader = DataLoader(train_set, shuffle=True, batch_size=batch_size)
    val_loader = DataLoader(val_set, shuffle=False, batch_size=batch_size)
    test_loader = DataLoader(test_set, shuffle=False, batch_size=batch_size)

    # 训练
    history = np.zeros([4, epochs])
    for e in range(epochs):
        model.train()
        acc1, acc3, loss = train_epoch(model, train_loader, criterion, optimizer, e, epochs, device)
        scheduler.step()
        print("epoch {:03d} loss {:.4f} top1 {:.2f}% top3 {:.2f}%".format(e + 1, loss, acc1, acc3))
        history[:, e] = e + 1, loss, acc1, acc3

        if (e + 1) % save_every == 0 or e == epochs - 1:
            model.eval()
            v_acc1, v_acc3, v_loss, v_pred, v_true = valid_epoch(model, val_loader, criterion, device)
            cm, recall, precision, f1 = output_metrics(v_true, v_pred)
            print("val epoch {:03d}: acc {:.2f}% recall {:.4f} precision {:.4f} f1 {:.4f}".format(e + 1, v_acc1, recall, precision, f1))
            torch.save(model.state_dict(), os.path.join(ckpt_dir, "epoch{}_loss{:.4f}.pth".format(e + 1, v_loss)))

    draw_result_visualization(log_dir, history)

    # 测试
    model.eval()
    t_acc1, t_acc3, t_pred, t_true = test_epoch(model, val_loader, device)
    cm, recall, precision, f1 = output_metrics(t_true, t_pred)
    print("test: acc {:.2f}% recall {:.4f} precision {:.4f} f1 {:.4f}".format(t_acc1, recall, precision, f1))
    store_result(log_dir, t_acc1, recall, precision, f1, cm, epochs, batch_size, lr)
