import argparse
import trainer.model as model

CLASS_SIZE = 1  # income above or below 50K
FILE_PATH = 'checkpoint.{epoch:02d}.hdf5'


def train_and_evaluate(args):
    census_model = model.model_fn(INPUT_SIZE, CLASS_SIZE)
    checkpoint = tf.keras.callbacks.ModelCheckpoint(FILE_PATH, monitor='val_loss', period=args.checkpoint_epochs)
    census_model.fit_generator(
        model.generator_input(args.train_files, chunk_size=CHUNK_SIZE),
        steps_per_epoch=args.train_steps,
        epochs=args.num_epochs,
        callbacks=[checkpoint])
