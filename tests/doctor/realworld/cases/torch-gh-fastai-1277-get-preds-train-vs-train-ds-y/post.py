from fastai.vision import *
import numpy as np
import pandas as pd

data = ImageDataBunch.from_folder(path, train="train", valid="valid", ds_tfms=get_transforms(), size=224, bs=64)
learn = create_cnn(data, models.resnet34, metrics=accuracy)
learn.fit_one_cycle(4)

preds_train = learn.get_preds(ds_type=DatasetType.Train)
preds_valid = learn.get_preds(ds_type=DatasetType.Valid)
interp_train = ClassificationInterpretation(learn, *preds_train[:2], losses=None)

df_train = pd.DataFrame({
   "proba": preds_train[0].numpy()[:,0:1].flatten(),
   "pred_act": preds_train[1].numpy(),
   "actual": [l.data for l in learn.data.train_ds.y]
})

df_valid = pd.DataFrame({
   "proba": preds_valid[0].numpy()[:,0:1].flatten(),
   "pred": [0 if v>0.5 else 1 for v in preds_valid[0].numpy()[:,0:1].flatten()],
   "pred_act": preds_valid[1].numpy(),
   "actual": [l.data for l in learn.data.valid_ds.y]
})

print(interp_train.confusion_matrix())
print(np.diag(interp_train.confusion_matrix()).sum())
print((df_train["pred_act"]==df_train["actual"]).sum())
