# cell from the repository's notebook that prepared the training data
train_x, val_x, test_x, train_y, val_y, test_y, classweight, classes = cai.datasets.load_images_from_folders(
    seed=7, root_dir=data_dir, lab=True,
    verbose=True, bipolar=False, base_model_name='plant_leaf',
    training_size=0.6, validation_size=0.2, test_size=0.2,
    target_size=(input_shape[0], input_shape[1]),
    has_training=True, has_validation=True, has_testing=True,
    smart_resize=True)
