    train_dataloader = DataLoader(train_dataset, shuffle=True, cast_output=False, **config)
    val_dataloader = DataLoader(val_dataset, shuffle=False, cast_output=False, **config)
    out_len = len(train_dataloader[0][0]) + len(train_dataloader[0][1])

    train_datagen = tf.data.Dataset.from_generator(generator=make_gen_callable(train_dataloader),
                                                   output_types=tuple(tf.float32 for _ in range(out_len)))
    val_datagen = tf.data.Dataset.from_generator(generator=make_gen_callable(train_dataloader),
                                                 output_types=tuple(tf.float32 for _ in range(out_len)))

    model.fit(train_datagen,
              epochs=config['epochs'],
              steps_per_epoch=len(train_dataloader),
              validation_data=val_datagen,
              validation_steps=len(val_dataloader),
              callbacks=callbacks)
