if cfg.fp16 is True:
    with autocast():
        output = model(imgs)
        loss = loss_fn(output, targets)
    scaler.scale(loss).backward()
    scaler.step(optimizer)
    scaler.update()
else:
    output = model(imgs)
    loss = loss_fn(output, targets)
    loss.backward()
optimizer.step()
