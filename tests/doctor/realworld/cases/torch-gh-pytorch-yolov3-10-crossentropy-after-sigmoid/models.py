class YOLOLayer(nn.Module):
    """One YOLO output scale: decodes predictions and, given targets, returns the loss."""

    def __init__(self, anchors, num_classes, img_dim):
        super(YOLOLayer, self).__init__()
        self.anchors = anchors
        self.num_anchors = len(anchors)
        self.num_classes = num_classes
        self.n_attr = 5 + num_classes
        self.img_dim = img_dim
        self.ignore_thres = 0.5
        self.coord_w = 1

        self.mse_loss = nn.MSELoss(size_average=True)
        self.bce_loss = nn.BCELoss(size_average=True)
        self.ce_loss = nn.CrossEntropyLoss(size_average=False)

    def forward(self, x, targets=None):
        n_anc = self.num_anchors
        n_img = x.size(0)
        g = x.size(2)
        stride = self.img_dim / g

        FloatTensor = torch.cuda.FloatTensor if x.is_cuda else torch.FloatTensor
        LongTensor = torch.cuda.LongTensor if x.is_cuda else torch.LongTensor

        prediction = x.view(n_img, n_anc, self.n_attr, g, g).permute(0, 1, 3, 4, 2).contiguous()

        # decode the raw map
        x = torch.sigmoid(prediction[..., 0])
        y = torch.sigmoid(prediction[..., 1])
        w = prediction[..., 2]
        h = prediction[..., 3]
        pred_conf = torch.sigmoid(prediction[..., 4])
        pred_cls = torch.sigmoid(prediction[..., 5:])

        # ... grid offsets, anchors scaled to the grid, pred_boxes ...

        if targets is not None:
            gT, nCorrect, mask, conf_mask, tx, ty, tw, th, tconf, tcls = build_targets(
                pred_boxes=pred_boxes.cpu().data, pred_conf=pred_conf.cpu().data, pred_cls=pred_cls.cpu().data,
                target=targets.cpu().data, anchors=scaled_anchors.cpu().data, num_anchors=n_anc,
                num_classes=self.num_classes, grid_size=g, ignore_thres=self.ignore_thres, img_dim=self.img_dim)

            mask = Variable(mask.type(ByteTensor))
            tcls = Variable(tcls.type(LongTensor), requires_grad=False)

            loss_x = self.mse_loss(x[mask], tx[mask])
            loss_y = self.mse_loss(y[mask], ty[mask])
            loss_w = self.mse_loss(w[mask], tw[mask])
            loss_h = self.mse_loss(h[mask], th[mask])
            loss_conf = self.bce_loss(pred_conf[conf_mask_false], tconf[conf_mask_false]) + \
                self.bce_loss(pred_conf[conf_mask_true], tconf[conf_mask_true])
            loss_cls = (1 / n_img) * self.ce_loss(pred_cls[mask], torch.argmax(tcls[mask], 1))
            loss = loss_x + loss_y + loss_w + loss_h + loss_conf + loss_cls

            return loss, loss_x.item(), loss_y.item(), loss_w.item(), loss_h.item(), \
                loss_conf.item(), loss_cls.item(), recall, precision
        else:
            output = torch.cat((pred_boxes.view(n_img, -1, 4) * stride, pred_conf.view(n_img, -1, 1),
                                pred_cls.view(n_img, -1, self.num_classes)), -1)
            return output
