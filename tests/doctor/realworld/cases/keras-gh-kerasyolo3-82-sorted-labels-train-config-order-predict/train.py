import json

from keras.callbacks import ModelCheckpoint
from keras.optimizers import Adam

from generator import BatchGenerator
from voc import parse_voc_annotation
from yolo import create_yolov3_model


def load_instances(annot_folder, image_folder, cache, labels):
    instances, seen = parse_voc_annotation(annot_folder, image_folder, cache, labels)
    missing = set(labels) - set(seen)
    if missing:
        raise ValueError("no annotations for %s" % missing)
    split = int(0.8 * len(instances))
    return instances[:split], instances[split:], sorted(labels)


config = json.load(open("config.json"))
train_ints, valid_ints, labels = load_instances(
    config['train']['train_annot_folder'],
    config['train']['train_image_folder'],
    config['train']['cache_name'],
    config['model']['labels'],
)
print('Training on:', labels)

train_generator = BatchGenerator(train_ints, config['model']['anchors'], labels,
                                 batch_size=config['train']['batch_size'], shuffle=True)
valid_generator = BatchGenerator(valid_ints, config['model']['anchors'], labels,
                                 batch_size=config['train']['batch_size'], shuffle=False)

train_model, infer_model = create_yolov3_model(nb_class=len(labels), anchors=config['model']['anchors'])
train_model.load_weights("backend.h5", by_name=True)
train_model.compile(loss=lambda y_true, y_pred: y_pred, optimizer=Adam(lr=config['train']['learning_rate']))
train_model.fit_generator(
    generator=train_generator,
    steps_per_epoch=len(train_generator),
    epochs=config['train']['nb_epochs'],
    validation_data=valid_generator,
    callbacks=[ModelCheckpoint(config['train']['saved_weights_name'], monitor='loss', save_best_only=True)],
)
infer_model.save(config['train']['saved_weights_name'])
