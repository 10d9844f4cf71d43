"""Diarization accuracy and speed on real meeting excerpts, extraction quality, and a long recording's cost.

For ami_dev00 and every ami_train excerpt: DER (pyannote.metrics, overlap scored, collar 0 and 0.25 s) with the
speaker count found automatically and with it given, the count found against the true one, and the real-time
factor; beside them, in the same run, the floor of labelling all speech as one speaker (reference speech, so it has
no detection error at all), and the "detect" column: the error left if every detected speaker were the right one,
the share of DER that speech and overlap detection alone causes and no clustering can remove. Then SI-SDR of the
extracted tracks of a recording built from two real speakers, against the mixture itself; then peak RSS and RTF for
diarizing a long file (the test recordings concatenated) in a fresh process. Targets on 2 CPU cores: overall DER
≤ 15 % with the count found, RTF ≤ 0.05, 1-hour file ≤ 1 GB RSS.

    .venv/bin/python -m benchmarks.speaker_analysis [--long-minutes 60]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from pyannote.core import Annotation, Segment, Timeline
from pyannote.metrics.diarization import DiarizationErrorRate

from app.engines.speaker import (
    DiarizationOptions,
    DVectorEmbedder,
    PyanNetSegmenter,
    bundled_embedder_model,
    segmentation_onnx,
)
from app.pipelines.audio import decode_audio
from app.pipelines.diarization import BundledDiarizer
from app.pipelines.encode import AudioFormat, encode_audio
from app.pipelines.extraction import DiarizationGuidedExtractor
from benchmarks.recordings import concatenated_speech, write_flac
from tests.fixtures.testdata import DEFAULT_TESTDATA
from tests.speaker_data import as_annotation, read_rttm, si_sdr, two_speaker_mix

LONG_RUN = """
import sys, time
from pathlib import Path
from app.engines.speaker import DiarizationOptions, DVectorEmbedder, PyanNetSegmenter, bundled_embedder_model
from app.engines.speaker import segmentation_onnx
from app.pipelines.diarization import BundledDiarizer
cache, path = Path(sys.argv[1]), Path(sys.argv[2])
diarizer = BundledDiarizer(PyanNetSegmenter(segmentation_onnx(cache)), DVectorEmbedder(bundled_embedder_model()))
started = time.perf_counter()
result = diarizer.diarize(path, DiarizationOptions())
peak_kb = next(int(line.split()[1]) for line in open("/proc/self/status") if line.startswith("VmHWM:"))
print(time.perf_counter() - started, len(result.speakers), len(result.turns), peak_kb)
"""


def one_speaker(reference: Annotation) -> Annotation:
    floor = Annotation()
    for segment in reference.get_timeline().support():
        floor[segment] = "everyone"
    return floor


GRID_SECONDS = 0.01


def speaker_counts(annotation: Annotation, duration: float) -> np.ndarray:
    """How many speakers talk in each 10 ms frame."""
    times = (np.arange(int(duration / GRID_SECONDS)) + 0.5) * GRID_SECONDS
    counts = np.zeros(times.size, dtype=np.int64)
    for segment in annotation.itersegments():
        for _ in annotation.get_labels(segment):
            counts += (times >= segment.start) & (times < segment.end)
    return counts


def detection_errors(reference: Annotation, hypothesis: Annotation, duration: float) -> tuple[float, float]:
    """(seconds of detection error, seconds of reference speech): what DER would be if every detected speaker were
    the right one. Only how many speakers talk in each frame counts, so this is the error the segmentation leaves
    (speech missed, overlap missed or imagined) and no clustering can remove."""
    expected, found = speaker_counts(reference, duration), speaker_counts(hypothesis, duration)
    return float(np.abs(expected - found).sum()) * GRID_SECONDS, float(expected.sum()) * GRID_SECONDS


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--testdata", type=Path, default=DEFAULT_TESTDATA)
    parser.add_argument("--long-minutes", type=float, default=60.0, help="0 skips the long-file run")
    args = parser.parse_args()
    testdata = args.testdata.resolve()
    files = [testdata / "ami_dev00.wav", *sorted((testdata / "ami_train").glob("*.wav"))]

    with tempfile.TemporaryDirectory(prefix="speaker-bench-") as folder:
        work = Path(folder)
        cache = work / "models"
        diarizer = BundledDiarizer(
            PyanNetSegmenter(segmentation_onnx(cache)), DVectorEmbedder(bundled_embedder_model())
        )
        diarizer.diarize(files[0], DiarizationOptions())  # warm-up: sessions initialised, caches filled

        metrics = {
            name: {collar: DiarizationErrorRate(collar=collar, skip_overlap=False) for collar in (0.0, 0.25)}
            for name in ("auto", "given", "one-speaker floor")
        }
        seconds = audio_seconds = detection_error = reference_speech = 0.0
        print(
            f"{'file':10} {'spk':>7} {'DER auto':>9} {'(c0.25)':>8} {'DER given':>10} {'(c0.25)':>8} "
            f"{'floor':>7} {'detect':>7} {'RTF':>6}"
        )
        for path in files:
            reference = read_rttm(path.with_suffix(".rttm"))
            started = time.perf_counter()
            auto = diarizer.diarize(path, DiarizationOptions())
            elapsed = time.perf_counter() - started
            given = diarizer.diarize(path, DiarizationOptions(num_speakers=len(reference.labels())))
            seconds, audio_seconds = seconds + elapsed, audio_seconds + auto.duration
            uem = Timeline([Segment(0, auto.duration)])
            row = {}
            for name, hypothesis in (
                ("auto", as_annotation(auto)),
                ("given", as_annotation(given)),
                ("one-speaker floor", one_speaker(reference)),
            ):
                row[name] = [metrics[name][c](reference, hypothesis, uem=uem) for c in (0.0, 0.25)]
            errors, speech = detection_errors(reference, as_annotation(auto), auto.duration)
            detection_error, reference_speech = detection_error + errors, reference_speech + speech
            print(
                f"{path.stem:10} {len(auto.speakers):>3}/{len(reference.labels()):<3} "
                f"{row['auto'][0]:9.1%} {row['auto'][1]:8.1%} {row['given'][0]:10.1%} {row['given'][1]:8.1%} "
                f"{row['one-speaker floor'][0]:7.1%} {errors / max(speech, 1e-9):7.1%} {elapsed / auto.duration:6.3f}"
            )
        overall = {name: [abs(metrics[name][c]) for c in (0.0, 0.25)] for name in metrics}
        floor = overall["one-speaker floor"][0]
        print(
            f"{'overall':10} {'':7} {overall['auto'][0]:9.1%} {overall['auto'][1]:8.1%} {overall['given'][0]:10.1%} "
            f"{overall['given'][1]:8.1%} {overall['one-speaker floor'][0]:7.1%} "
            f"{detection_error / reference_speech:7.1%} {seconds / audio_seconds:6.3f}"
        )
        print(
            f"DER (collar 0) vs the one-speaker floor: auto {overall['auto'][0] / floor:.2f}x, "
            f"given {overall['given'][0] / floor:.2f}x (target: auto <= 15 %, RTF <= 0.05); detection alone "
            f"(every detected speaker taken as the right one) {detection_error / reference_speech:.1%}"
        )

        mix = two_speaker_mix(testdata)
        mixed = work / "mix.wav"
        encode_audio(mix.mixture, 16000, "wav", mixed)
        extracted = DiarizationGuidedExtractor().extract(
            mixed, diarizer.diarize(mixed, DiarizationOptions()), work, AudioFormat.WAV
        )
        tracks = [decode_audio(track.path) for track in extracted.tracks]
        for track, name in zip(tracks, (t.speaker for t in extracted.tracks), strict=True):
            own = int(np.argmax([abs(np.corrcoef(track[: s.size], s[: track.size])[0, 1]) for s in mix.sources]))
            print(
                f"extraction {name}: SI-SDR {si_sdr(track, mix.sources[own]):.1f} dB "
                f"(mixture {si_sdr(mix.mixture, mix.sources[own]):.1f} dB) for source {own}"
            )

        if args.long_minutes <= 0:
            return 0
        long_path = work / "long.flac"
        duration = write_flac(
            concatenated_speech(testdata, args.long_minutes * 60)[: int(args.long_minutes * 60 * 16000)], long_path
        )
        run = subprocess.run(
            [sys.executable, "-c", LONG_RUN, str(cache), str(long_path)], capture_output=True, text=True, check=True
        )
        # The child's own high-water mark (VmHWM) is read inside it: rusage would also count the parent's pages
        # that a fork shares with the child before it executes the new interpreter.
        elapsed_long, speakers, turns, peak_kb = run.stdout.split()
        peak_mb = int(peak_kb) / 1024
        print(
            f"long file {duration / 60:.0f} min: RTF {float(elapsed_long) / duration:.3f}, peak RSS {peak_mb:.0f} MB, "
            f"{speakers} speakers, {turns} turns (target <= 1024 MB)"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
