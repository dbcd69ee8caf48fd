"""ULMFiT on IMDb with fastai: fine-tune the AWD-LSTM language model, then the classifier with gradual unfreezing."""
from fastai.text.all import *

path = untar_data(URLs.IMDB)

# 1. Fine-tune the pretrained language model on all IMDb text (train, test and unsup).
dls_lm = TextDataLoaders.from_folder(path, is_lm=True, valid_pct=0.1)
learn = language_model_learner(dls_lm, AWD_LSTM, metrics=[accuracy, Perplexity()], path=path, wd=0.1).to_fp16()
learn.fit_one_cycle(1, 1e-2)
learn.unfreeze()
learn.fit_one_cycle(10, 1e-3)
learn.save_encoder("finetuned")

# 2. Classifier on the labelled reviews, sharing the language model's vocabulary.
dls_clas = TextDataLoaders.from_folder(path, valid="test", text_vocab=dls_lm.vocab)
learn = text_classifier_learner(dls_clas, AWD_LSTM, drop_mult=0.5, metrics=accuracy)
learn = learn.load_encoder("finetuned")

learn.fit_one_cycle(1, 2e-2)
learn.freeze_to(-2)
learn.fit_one_cycle(1, slice(1e-2 / (2.6 ** 4), 1e-2))
learn.freeze_to(-3)
learn.fit_one_cycle(1, slice(5e-3 / (2.6 ** 4), 5e-3))
learn.unfreeze()
learn.fit_one_cycle(2, slice(1e-3 / (2.6 ** 4), 1e-3))

print(learn.validate())
print(learn.predict("I really liked that movie!"))
