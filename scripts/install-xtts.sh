#!/usr/bin/env bash
# Usage: scripts/install-xtts.sh [venv]
# Adds the XTTS v2 engine (the `xtts` extra) to the service's virtual environment on a CPU host, with the CPU build
# of torch, and resemblyzer (the second speaker embedder the cloning benchmark reports). GPU hosts install their
# CUDA build of torch and a matching torchaudio themselves, then `pip install -e '.[xtts]'`.
set -euo pipefail
cd "$(dirname "$0")/.."
venv="${1:-.venv}"
pip=("$venv/bin/python" -m pip install --quiet -c constraints.txt)

# The +cpu local version is the CPU-only build: pip can never resolve it to a CUDA wheel.
"${pip[@]}" 'torch==2.13.0+cpu' -e '.[xtts]'
# coqui-tts imports torchaudio, and no torchaudio build matches torch 2.13. torchaudio 2.11's Python code (the
# resampling and mel filters XTTS uses) runs on any torch once its compiled extensions, built for another torch, are
# removed; it then skips them. coqui-tts also refuses to import without torchcodec (never called: audio reaches XTTS
# in memory) and imports six without declaring it. --no-deps keeps these from pulling another torch.
"${pip[@]}" --no-deps 'torchaudio==2.11.0' 'torchcodec==0.17.0' 'six==1.17.0'
"$venv/bin/python" - <<'PY'
import pathlib, sysconfig
for library in pathlib.Path(sysconfig.get_paths()["purelib"], "torchaudio", "lib").glob("*.so"):
    library.unlink()
PY
# resemblyzer's only unmet requirement is webrtcvad, whose sdist needs a compiler; the wheels package provides it.
"${pip[@]}" --no-deps 'resemblyzer==0.1.4'
"${pip[@]}" 'webrtcvad-wheels==2.0.14'
"$venv/bin/python" -c 'import TTS.tts.models.xtts, resemblyzer' && echo "xtts engine installed in $venv"
