import json
import numpy as np
from model_def import make_transfer_model
from tokenizer import TweetTokenizer

MOODS = ["anger", "fear", "joy", "sadness", "surprise", "neutral"]

with open("vocab.json") as f:
    vocab = json.load(f)
tok = TweetTokenizer(vocab, seq_len=60)

# weights written by model.save_weights() at the end of fine-tuning on the mood set
clf = make_transfer_model(len(MOODS), 60, weight_path="runs/mood_ft/final_weights.h5")

class MoodScorer:
    def __init__(self):
        self.model = make_transfer_model(len(MOODS), 60, weight_path="runs/mood_ft/final_weights.h5")

    def score(self, text):
        ids = tok.encode([text])
        prob = self.model.predict(ids)[0]
        return MOODS[int(np.argmax(prob))], float(prob.max())

a = MoodScorer(); b = MoodScorer()
print(a.score("cannot believe the bus left without me again"))
print(b.score("cannot believe the bus left without me again"))
# -> ('joy', 0.31)  ('fear', 0.27)   different answer every time the scorer is built
