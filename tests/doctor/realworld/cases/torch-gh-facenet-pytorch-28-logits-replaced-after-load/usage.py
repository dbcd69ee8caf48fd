from facenet_pytorch import MTCNN, InceptionResnetV1
from PIL import Image

mtcnn = MTCNN(image_size=160)
# For a model pretrained on VGGFace2
resnet = InceptionResnetV1(pretrained='vggface2', classify=True).eval()

img = Image.open('celebrity.jpg')
face = mtcnn(img)
probs = resnet(face.unsqueeze(0))
print(probs.shape, probs.argmax(1))
