from vgg16 import Vgg16

path = "data/dogscats/"
batch_size = 64

vgg = Vgg16()
batches = vgg.get_batches(path + 'train', batch_size=batch_size)
val_batches = vgg.get_batches(path + 'valid', batch_size=batch_size * 2)
vgg.finetune(batches)
vgg.fit(batches, val_batches, nb_epoch=1)

imgs, labels = next(vgg.get_batches(path + 'valid', batch_size=4))
print(vgg.predict(imgs, True))
