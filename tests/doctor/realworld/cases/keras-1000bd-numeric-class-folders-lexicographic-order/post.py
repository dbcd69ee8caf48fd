data_all = tf.keras.preprocessing.image_dataset_from_directory(
        data_dir,
        labels='inferred',
        batch_size=batch_size,
        image_size=(img_height, img_width),
        shuffle=False  # 关闭洗牌以保持与文件夹中图像的顺序一致
    )

class_names = data_all.class_names
print("类别标签:", class_names)

train_ds = tf.keras.preprocessing.image_dataset_from_directory(
    data_dir,
    validation_split=0.7,
    subset='training',
    seed=123,
    image_size=(img_height, img_width),
    batch_size=batch_size)
