import torchvision
from torchvision import transforms


def make_transform(resize_size: int = 224):
    to_tensor = transforms.ToTensor()
    resize = transforms.Resize((resize_size, resize_size), antialias=True)
    normalize = transforms.Normalize(
        mean=(0.485, 0.456, 0.406),
        std=(0.229, 0.224, 0.225),
    )
    return transforms.Compose([to_tensor, resize, normalize])


# features of a local image with the ViT-L/16 backbone
backbone = torch.hub.load(REPO_DIR, 'dinov3_vitl16', source='local', weights=WEIGHTS_PATH)
backbone.eval()
with torch.inference_mode():
    emb = backbone(make_transform()(img)[None])
