from fastai.vision.all import *

path = untar_data(URLs.PETS)
files = get_image_files(path / "images")


def label_func(f):
    # In this dataset cat breeds are the file names starting with an upper-case letter.
    return f.name[0].isupper()


dls = ImageDataLoaders.from_name_func(
    path,
    files,
    label_func,
    valid_pct=0.2,
    seed=42,
    item_tfms=Resize(460),
    batch_tfms=aug_transforms(size=224, min_scale=0.75),
)
dls.show_batch(max_n=9)

learn = vision_learner(dls, resnet34, metrics=error_rate)
learn.lr_find()
learn.fine_tune(2, base_lr=3e-3)
learn.show_results()

interp = ClassificationInterpretation.from_learner(learn)
interp.plot_confusion_matrix()

learn.export("pets.pkl")
learn_inf = load_learner(path / "pets.pkl")
print(learn_inf.predict(files[0]))
