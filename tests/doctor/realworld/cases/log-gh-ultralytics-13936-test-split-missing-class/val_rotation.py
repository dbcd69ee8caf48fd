from ultralytics import YOLO

model = YOLO("runs/classify/train7/weights/best.pt")
metrics = model.val(data="/home/users/me/data-yolo/dataset/photoRotation", split="test", imgsz=224, batch=16)
print(metrics.top1, metrics.top5)
