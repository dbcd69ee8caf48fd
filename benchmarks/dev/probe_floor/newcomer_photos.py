"""The 75-image run that showed the collapse: 3 classes of noise, each with one colour channel
raised, 50 x 40 JPEGs, plus an unreadable and an empty file (reported and skipped).

    python benchmarks/dev/probe_floor/newcomer_photos.py /tmp/nc/photos
    graftlab train /tmp/nc/photos --image-size 64 --name t1    # results.csv: the epochs
"""

import sys
from pathlib import Path

import numpy as np
from PIL import Image

CLASSES = ("cat", "dog", "bird")


def main(root: Path) -> None:
    rng = np.random.default_rng(0)
    for k, name in enumerate(CLASSES):
        (root / name).mkdir(parents=True, exist_ok=True)
        for i in range(25):
            a = (rng.random((40, 50, 3)) * 255).astype(np.uint8)
            a[..., k] = 200
            Image.fromarray(a).save(root / name / f"{i}.jpg")
    (root / "cat" / "broken.jpg").write_bytes(b"notanimage")
    (root / "dog" / "empty.png").write_bytes(b"")


if __name__ == "__main__":
    main(Path(sys.argv[1]))
