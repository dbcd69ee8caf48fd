from keras.preprocessing.image import ImageDataGenerator
from keras.utils.np_utils import to_categorical

gen = ImageDataGenerator().flow_from_directory(
    train_dir,
    target_size=(img_w, img_h),
    batch_size=bs,
    class_mode=None,
    shuffle=True,
    seed=seed)
feats_train = base_model.predict_generator(gen, gen.n // bs)
labels_train = to_categorical(gen.classes)
np.save('bottleneck_train.npy', feats_train)
