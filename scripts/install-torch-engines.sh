#!/usr/bin/env bash
# Usage: scripts/install-torch-engines.sh [venv]
# Adds the torch-based engines to the service's virtual environment on a CPU host, with the CPU build of torch: XTTS v2
# (the `xtts` extra), pyannote.audio pipelines (the `pyannote` extra), and resemblyzer (the second speaker embedder
# the cloning benchmark reports). GPU hosts install their CUDA build of torch and a matching torchaudio themselves,
# then `pip install -e '.[xtts,pyannote]'`.
set -euo pipefail
cd "$(dirname "$0")/.."
venv="${1:-.venv}"
pip=("$venv/bin/python" -m pip install --quiet -c constraints.txt)

# coqui-tts and pyannote.audio import torchaudio, and no torchaudio build matches torch 2.13. torchaudio 2.11's Python
# code (the resampling and mel filters they use) runs on any torch once its compiled extensions, built for another
# torch, are removed below; it then skips them. Both also refuse to import without torchcodec (never called: audio
# reaches them in memory), and coqui-tts imports six without declaring it. These go first, with --no-deps, so that
# pip neither pulls another torch for them nor a CUDA torchaudio for pyannote.audio.
"${pip[@]}" --no-deps 'torchaudio==2.11.0' 'torchcodec==0.17.0' 'six==1.17.0'
# The +cpu local version is the CPU-only build: pip can never resolve it to a CUDA wheel.
"${pip[@]}" 'torch==2.13.0+cpu' -e '.[xtts,pyannote]'
"$venv/bin/python" - <<'PY'
import pathlib, sysconfig
for library in pathlib.Path(sysconfig.get_paths()["purelib"], "torchaudio", "lib").glob("*.so"):
    library.unlink()
PY
# pyannote's ToTaToNet separation model needs asteroid's DPRNN; asteroid's own requirements (pesq, pb_bss_eval, ...)
# serve its training recipes, need a compiler, and are never imported by it.
"${pip[@]}" --no-deps 'asteroid==0.5.1'
# resemblyzer's only unmet requirement is webrtcvad, whose sdist needs a compiler; the wheels package provides it.
"${pip[@]}" --no-deps 'resemblyzer==0.1.4'
"${pip[@]}" 'webrtcvad-wheels==2.0.14'
PYANNOTE_METRICS_ENABLED=0 "$venv/bin/python" -c 'import TTS.tts.models.xtts, pyannote.audio, asteroid.masknn, resemblyzer' \
  && echo "torch engines installed in $venv"
