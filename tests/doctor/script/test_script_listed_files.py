"""GL336 (label_entries): a class list made from every entry of the data folder, files
included, names the outputs of a model whose classes a folder loader numbered (folders only).
A note on the script alone; the printed list makes it an error (GL460, test_log_stray.py)."""

from __future__ import annotations

from graftlab.doctor.script import check_script

GLOBBED = """\
import pathlib
import numpy as np
import tensorflow as tf
from tensorflow.keras.preprocessing.image import ImageDataGenerator
root = pathlib.Path("fruit/train")
labels = np.array(sorted([p.name for p in root.glob("*")]))
gen = ImageDataGenerator(rescale=1 / 255.0).flow_from_directory("fruit/train", target_size=(96, 96))
net.fit(gen, epochs=3)


def show(net, path, labels):
    x = tf.expand_dims(tf.image.resize(tf.io.decode_image(tf.io.read_file(path)), (96, 96)), 0)
    p = net.predict(x / 255.0)
    print(labels[int(np.argmax(p))])


show(net, "a.jpg", labels)
"""


def _found(src: str) -> list:
    return [f for f in check_script(src, filename="post.py") if f.code == "GL336"]


def test_globbed_class_list_followed_into_a_function_parameter():
    (f,) = _found(GLOBBED)
    assert f.severity == "info" and f.category == "label-order-mismatch"
    assert "'fruit/train'" in f.title and "flow_from_directory" in f.title
    for line in (6, 7, 14):
        assert f"post.py:{line}:" in f.evidence
    assert "Inferred" in f.explanation and ".DS_Store" in f.explanation


def test_listdir_beside_an_image_folder():
    src = """\
import os
import torch
from torchvision import datasets
train_set = datasets.ImageFolder("data/train", transform=tf)
names = sorted(os.listdir("data/train"))
out = model(img)
print(names[out.argmax(1).item()])
"""
    (f,) = _found(src)
    assert "ImageFolder" in f.title
    # glob.glob with a joined pattern whose folder is not known
    joined = src.replace(
        'sorted(os.listdir("data/train"))',
        "sorted(os.path.basename(p) for p in glob.glob(os.path.join(root, '*')))",
    )
    assert len(_found("import glob\n" + joined)) == 1


def test_folders_only_or_names_from_the_loader_are_silent():
    for listing in (
        "np.array(sorted([p.name for p in root.glob('*') if p.is_dir()]))",
        "np.array(sorted([p.name for p in root.glob('*') if not p.name.startswith('.')]))",
        "np.array(sorted([p.name for p in root.glob('*/')]))",
        "np.array(sorted(gen.class_indices))",
    ):
        assert _found(GLOBBED.replace(GLOBBED.splitlines()[5].split(" = ", 1)[1], listing)) == []
    # the list is repaired before use
    fixed = GLOBBED.replace('\nshow(net, "', '\nlabels = labels[1:]\nshow(net, "')
    assert _found(fixed) == []
    removed = GLOBBED.replace('\nshow(net, "', "\nlabels.remove('.DS_Store')\nshow(net, \"")
    assert _found(removed) == []


def test_no_folder_loader_or_no_prediction_is_silent():
    # the script numbers its own labels with the same listing: the two agree
    own = """\
import os
names = sorted(os.listdir("data"))
for i, name in enumerate(names):
    for f in os.listdir(os.path.join("data", name)):
        X.append(read(f)); y.append(i)
model.fit(X, y)
print(names[int(np.argmax(model.predict(x)))])
"""
    assert _found(own) == []
    unused = GLOBBED.replace("print(labels[int(np.argmax(p))])", "print(p)")
    assert _found(unused) == []


def test_a_script_of_many_listings_is_checked_in_linear_time():
    # each listing walked the whole script twice (edits, then uses): 1,500 listings ran past
    # the checks' 5 s budget and stopped the checks after this one (GL398)
    import time

    src = (
        "import os\nfrom tensorflow.keras.preprocessing.image import ImageDataGenerator\n"
        "gen = ImageDataGenerator().flow_from_directory('data/train')\n"
        + "".join(f"n{i} = sorted(os.listdir('data/train'))\n" for i in range(1500))
        + "p = model.predict(x)\nprint(n1[p.argmax()])\n"
    )
    start = time.process_time()
    codes = [f.code for f in check_script(src, filename="post.py")]
    assert time.process_time() - start < 5.0
    assert "GL398" not in codes and codes.count("GL336") == 1


def test_an_unsorted_listing_reported_as_out_of_order_is_one_finding():
    # GL306 says the same list is unsorted; its fix (the loader's names) mends the files too
    src = (
        "import os\nimport numpy as np\nfrom tensorflow import keras\n"
        "gen = keras.preprocessing.image.ImageDataGenerator().flow_from_directory('data/train')\n"
        "model = keras.models.load_model('m.h5')\n"
        "classes = {listing}\n"
        "print(classes[np.argmax(model.predict(x))])\n"
    )
    unsorted = [f.code for f in _all(src.format(listing="os.listdir('data/train')"))]
    assert "GL306" in unsorted and "GL336" not in unsorted
    in_order = [f.code for f in _all(src.format(listing="sorted(os.listdir('data/train'))"))]
    assert "GL306" not in in_order and "GL336" in in_order


def _all(src: str) -> list:
    return check_script(src, filename="post.py")
