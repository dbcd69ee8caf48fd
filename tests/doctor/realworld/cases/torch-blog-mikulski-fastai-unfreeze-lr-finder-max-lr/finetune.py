from fastai.vision import *

path = Path('data/leaves')
data = (ImageDataBunch.from_folder(path, train='train', valid='valid',
                                   ds_tfms=get_transforms(), size=224, bs=48)
        .normalize(imagenet_stats))

learn = cnn_learner(data, models.resnet50, metrics=[accuracy])
learn.fit_one_cycle(4)
learn.save('stage-1')

learn.unfreeze()
learn.lr_find()
learn.recorder.plot()
# steepest part of the curve sits between 1e-2 and 1e-1

first, middle, last = 1e-5, 1e-4, 0.06
learn.fit_one_cycle(5, max_lr=[first, middle, last])
