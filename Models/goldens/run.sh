#!/usr/bin/env bash
# Regenerates the committed golden outputs from the original PyTorch models.
#
#   bash Models/goldens/run.sh                 # every generator in this folder
#   bash Models/goldens/run.sh efficientnet_lite0
#   bash Models/goldens/run.sh transnetv2      # needs Media/samples (Media/fetch-samples.sh) and ffmpeg
#   bash Models/goldens/run.sh minilm          # all-MiniLM-L6-v2: tokenizer ids, embeddings, code points
#
# A throwaway virtualenv (default: .venv-goldens at the repository root, gitignored;
# override with GOLDENS_VENV=/tmp/somewhere) receives the pinned packages of
# requirements.txt. torch comes from PyPI and pulls its CUDA libraries; only the CPU is used.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
venv="${GOLDENS_VENV:-$root/.venv-goldens}"
python="${PYTHON:-python3}"

if [ ! -x "$venv/bin/python" ]; then
    "$python" -m venv "$venv"
fi
stamp="$venv/.requirements.sha256"
want="$(sha256sum "$here/requirements.txt" | cut -d' ' -f1)"
if [ "$(cat "$stamp" 2>/dev/null || true)" != "$want" ]; then
    "$venv/bin/python" -m pip install --quiet --upgrade pip
    "$venv/bin/python" -m pip install --quiet -r "$here/requirements.txt"
    echo "$want" > "$stamp"
fi

if [ "$#" -eq 0 ]; then
    set -- efficientnet_lite0 transnetv2 minilm
fi
cd "$root"
for name in "$@"; do
    if [ ! -f "$here/$name.py" ]; then
        echo "error: no generator $here/$name.py" >&2
        exit 2
    fi
    echo "== goldens: $name"
    HF_HUB_OFFLINE=1 CUDA_VISIBLE_DEVICES="" "$venv/bin/python" "$here/$name.py"
done
