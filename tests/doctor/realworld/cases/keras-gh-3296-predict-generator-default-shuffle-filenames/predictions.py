eval_datagen = ImageDataGenerator(rescale=1./255)

scoring_gen = eval_datagen.flow_from_directory(
        '/data/drivers/test_sorted',
        target_size=(224, 224),
        batch_size=32,
        class_mode='categorical')

probs = model.predict_generator(scoring_gen, val_samples=9600)

rows = []
for fname, p in zip(scoring_gen.filenames, probs):
    rows.append([os.path.basename(fname)] + list(p))

sub = pd.DataFrame(rows, columns=['img'] + ['c%d' % i for i in range(10)])
sub.to_csv('submission_vgg_ft.csv', index=False)
print sub.head()
