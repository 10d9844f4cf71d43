"""The bundled diarizer: speech and overlap detection → speaker embeddings → clustering → speaker turns.

1. **Segmenting**: pyannote's segmentation network scores speech and overlapped speech per 17 ms frame; hysteresis
   thresholds and short-gap filling turn the scores into speech regions.
2. **Embedding**: 0.82 s windows every 0.4 s that are mostly speech get a level-normalised d-vector; up to three
   consecutive windows form one segment to cluster (longer segments give steadier vectors).
3. **Clustering**: agglomerative clustering of the segments (``app.pipelines.clustering``) finds the speakers.
4. **Labelling**: a window moves to the next or previous window's speaker where that speaker's centroid is more like it
   (clustering labelled segments of three windows); every speech frame takes the label of the nearest embedded
   window; where the network detects overlapped speech, the other speaker whose centroid that window's vector is
   most like is added as a second speaker (a window over two voices carries something of both; on the AMI excerpts
   this scored DER 22.1 % against 22.9 % for taking the nearest other speaker in time).

The file is decoded twice (once per pass) rather than held in memory, so hours of audio need tens of megabytes.
The settings in ``DiarizationTuning`` were chosen on AMI meeting excerpts with 1 to 4 speakers, not on one file.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from app.engines.speaker.base import Diarization, DiarizationOptions, SpeakerEmbedder, SpeakerTurn
from app.engines.speaker.embedding import WINDOW_SAMPLES
from app.engines.speaker.segmentation import FrameScores, PyanNetSegmenter
from app.pipelines.audio import SAMPLE_RATE, iter_decoded_chunks, probe_audio
from app.pipelines.clustering import ClusteringOptions, centroids_of, cluster_embeddings
from app.pipelines.hooks import ProgressHook, setup_hook

STEP_WEIGHTS = {"segmenting": 0.3, "embedding": 0.65, "clustering": 0.05}
DECODE_CHUNK_SECONDS = 60.0
WINDOW_HOP_SAMPLES = 6400
"""0.4 s between embedding windows (half a window)."""


@dataclass(frozen=True)
class DiarizationTuning:
    speech_onset: float = 0.3
    speech_offset: float = 0.3
    min_gap_seconds: float = 0.2
    """Pauses shorter than this inside one region are filled."""
    window_speech_fraction: float = 0.3
    """A window is embedded when at least this share of it is speech."""
    windows_per_segment: int = 3
    cluster_threshold: float = 0.5
    merge_similarity: float = 0.75
    min_cluster_seconds: float = 1.0
    overlap_threshold: float = 0.35
    """Overlap score above which a second speaker is added: 0.25-0.35 scored DER 21.8-21.9 % over the nine AMI
    excerpts, 0.4 22.1 %, 0.5 22.7 % (fewer false alarms, more overlap missed)."""


def speech_mask(scores: FrameScores, tuning: DiarizationTuning) -> np.ndarray:
    """Frames that are speech: hysteresis on the speech score, then gaps under ``min_gap_seconds`` filled."""
    speech = scores.speech
    mask = np.zeros(speech.size, dtype=bool)
    active = False
    for index, value in enumerate(speech):
        active = bool(value > (tuning.speech_offset if active else tuning.speech_onset))
        mask[index] = active
    frames = np.flatnonzero(mask)
    if frames.size > 1:
        gaps = np.diff(frames)
        longest = int(tuning.min_gap_seconds / scores.frame_step)
        for position in np.flatnonzero((gaps > 1) & (gaps <= longest)):
            mask[frames[position] : frames[position + 1]] = True
    return mask


def _runs(labels: np.ndarray) -> Iterator[tuple[int, int, int]]:
    """(label, first frame, end frame) of each run of equal labels, skipping label -1."""
    if labels.size == 0:
        return
    edges = np.flatnonzero(np.diff(labels)) + 1
    starts = np.concatenate([[0], edges])
    ends = np.concatenate([edges, [labels.size]])
    for start, end in zip(starts, ends, strict=True):
        if labels[start] >= 0:
            yield int(labels[start]), int(start), int(end)


def refined_labels(vectors: np.ndarray, labels: np.ndarray, speakers: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Window labels, speaker centroids and each window's similarity to them (windows x speakers), after every
    window has moved to the speaker of the window before or after it where that speaker's centroid is more like it.

    Clustering labels whole segments of up to three windows (1.6 s), so a segment that straddles a change of speaker
    gives all of it to one of them; a window alone is labelled more finely. Over the nine AMI excerpts this took DER
    from 21.8 % to 21.3 % with the speaker count found (ami_dev00 15.8 % to 13.2 %, trn04 28.7 % to 26.1 %, none
    worse) and from 28.5 % to 28.0 % with it given. Letting any window move to any speaker scored 21.1 % / 28.5 %,
    but it lets a small cluster of stray vectors gather windows far from its own: a far-field recording of one man
    then showed a second speaker for 20 % of it instead of 15 %. Moves that would leave a speaker without windows
    are not made, so a given count still holds. Windows on either side of a pause count as neighbours too (a turn
    goes on after a breath); taking only windows without a pause between them scored 21.4 % (ami_dev00 13.7 %).

    Args:
        vectors: (windows, dim) unit-length embeddings, in time order.
        labels: each window's cluster.
        speakers: how many clusters there are.
    """
    centroids = centroids_of(vectors, labels, speakers)
    similarity = vectors @ centroids.T
    if speakers < 2:
        return labels, centroids, similarity
    windows = np.arange(labels.size)
    moved = labels.copy()
    for neighbour in (np.r_[labels[:1], labels[:-1]], np.r_[labels[1:], labels[-1:]]):
        moved = np.where(similarity[windows, neighbour] > similarity[windows, moved], neighbour, moved)
    while (emptied := np.setdiff1d(np.arange(speakers), moved)).size:
        moved = np.where(np.isin(labels, emptied), labels, moved)
    centroids = centroids_of(vectors, moved, speakers)
    return moved, centroids, vectors @ centroids.T


class BundledDiarizer:
    """A ``Diarizer`` assembled from the bundled segmentation network and speaker embedder.

    Args:
        segmenter: speech and overlap scores.
        embedder: speaker vectors for fixed windows.
        tuning: thresholds (defaults chosen on AMI excerpts).
        max_seconds: the most audio a file may hold, whatever its header declares (``None``: no limit).
    """

    name = "audio-api diarizer (pyannote segmentation + d-vector clustering)"

    def __init__(
        self,
        segmenter: PyanNetSegmenter,
        embedder: SpeakerEmbedder,
        tuning: DiarizationTuning | None = None,
        *,
        max_seconds: float | None = None,
    ) -> None:
        self._segmenter = segmenter
        self._embedder = embedder
        self._tuning = tuning or DiarizationTuning()
        self._max_seconds = max_seconds

    def diarize(self, audio_path: Path, options: DiarizationOptions, hook: ProgressHook | None = None) -> Diarization:
        """Find who spoke when in ``audio_path``.

        Raises:
            InvalidAudio: the file is not decodable audio.
            AudioLongerThanAllowed: the file holds more than ``max_seconds`` of audio (found in the first pass).
            UnsupportedMediaType: the container has no audio stream.
        """
        report = setup_hook(hook)
        declared = probe_audio(audio_path).duration
        report("segmenting", completed=0.0, total=declared)
        decoded: list[int] = [0]
        scores = self._segmenter.score(self._decoded(audio_path, "segmenting", declared, report, decoded))
        # What decoded is the truth: a header (a VBR MP3 without its Xing frame, say) may declare less or more.
        duration = decoded[0] / SAMPLE_RATE if decoded[0] else declared
        mask = speech_mask(scores, self._tuning)
        starts = self._window_starts(scores, mask)
        vectors = self._embed(audio_path, starts, duration, report)
        report("clustering", completed=0.0, total=1.0)
        diarization = self._label(scores, mask, starts, vectors, options, duration)
        report("clustering", completed=1.0, total=1.0)
        return diarization

    def _decoded(
        self, path: Path, step: str, duration: float, report: ProgressHook, samples: list[int]
    ) -> Iterator[np.ndarray]:
        """The recording in chunks, counting its samples into ``samples[0]``."""
        chunks = iter_decoded_chunks(
            path, sample_rate=SAMPLE_RATE, chunk_seconds=DECODE_CHUNK_SECONDS, max_seconds=self._max_seconds
        )
        for chunk in chunks:
            yield chunk
            samples[0] += chunk.size
            report(step, completed=samples[0] / SAMPLE_RATE, total=max(duration, samples[0] / SAMPLE_RATE))

    def _window_starts(self, scores: FrameScores, mask: np.ndarray) -> np.ndarray:
        """Sample offsets of the embedding windows that are mostly speech."""
        if not mask.any():
            return np.zeros(0, dtype=np.int64)
        total_samples = round(float(scores.time_of(mask.size)) * SAMPLE_RATE)
        starts = np.arange(0, max(total_samples - WINDOW_SAMPLES // 2, 1), WINDOW_HOP_SAMPLES, dtype=np.int64)
        cumulative = np.concatenate([[0], np.cumsum(mask)])
        first = np.clip(np.round((starts / SAMPLE_RATE - scores.frame_offset) / scores.frame_step), 0, mask.size)
        last = np.clip(
            np.round(((starts + WINDOW_SAMPLES) / SAMPLE_RATE - scores.frame_offset) / scores.frame_step), 0, mask.size
        )
        first, last = first.astype(np.int64), last.astype(np.int64)
        fraction = (cumulative[last] - cumulative[first]) / np.maximum(last - first, 1)
        selected: np.ndarray = starts[fraction >= self._tuning.window_speech_fraction]
        return selected

    def _embed(self, path: Path, starts: np.ndarray, duration: float, report: ProgressHook) -> np.ndarray:
        """Embed every window in one streaming pass, keeping only the audio the next windows still need."""
        vectors: list[np.ndarray] = []
        if starts.size == 0:
            report("embedding", completed=duration, total=duration)
            return np.zeros((0, self._embedder.dimension), dtype=np.float32)
        buffer = np.zeros(0, dtype=np.float32)
        buffer_start = 0
        position = 0
        for chunk in self._decoded(path, "embedding", duration, report, [0]):
            buffer = np.concatenate([buffer, chunk])
            end = buffer_start + buffer.size
            ready = int(np.searchsorted(starts, end - WINDOW_SAMPLES, side="right"))
            if ready > position:
                vectors.append(self._embedder.embed_windows(buffer, starts[position:ready] - buffer_start))
                position = ready
            keep = int(starts[position]) - buffer_start if position < starts.size else buffer.size
            buffer, buffer_start = buffer[keep:], buffer_start + keep
        if position < starts.size:  # windows running past the end are zero-padded by the embedder
            vectors.append(self._embedder.embed_windows(buffer, starts[position:] - buffer_start))
        return np.concatenate(vectors)

    def _label(
        self,
        scores: FrameScores,
        mask: np.ndarray,
        starts: np.ndarray,
        vectors: np.ndarray,
        options: DiarizationOptions,
        duration: float,
    ) -> Diarization:
        if starts.size == 0:
            return Diarization(duration=duration, engine=self.name, turns=[])
        tuning = self._tuning
        segment_of = self._segments(starts)
        segments = int(segment_of.max()) + 1
        segment_vectors = centroids_of(vectors, segment_of, segments)
        weights = np.bincount(segment_of, minlength=segments) * (WINDOW_HOP_SAMPLES / SAMPLE_RATE)
        clustering = ClusteringOptions(
            threshold=tuning.cluster_threshold,
            min_cluster_weight=tuning.min_cluster_seconds,
            merge_similarity=tuning.merge_similarity,
            num_clusters=options.num_speakers,
            min_clusters=options.min_speakers,
            max_clusters=options.max_speakers,
        )
        window_labels = cluster_embeddings(segment_vectors, weights, clustering)[segment_of]
        speakers = int(window_labels.max()) + 1
        window_labels, centroid_vectors, similarity = refined_labels(vectors, window_labels, speakers)

        centres = (starts + WINDOW_SAMPLES / 2) / SAMPLE_RATE
        times = scores.time_of(np.arange(mask.size))
        nearest = np.clip(np.searchsorted(centres, times), 1, max(centres.size - 1, 1))
        if centres.size > 1:
            nearest = np.where(
                np.abs(times - centres[nearest - 1]) <= np.abs(times - centres[nearest]), nearest - 1, nearest
            )
        else:
            nearest = np.zeros(mask.size, dtype=np.int64)
        frame_labels = np.where(mask, window_labels[nearest], -1)
        turns = self._turns(frame_labels, scores, duration)
        if speakers > 1:
            second = self._second_speakers(frame_labels, scores, mask, nearest, similarity)
            turns += self._turns(second, scores, duration)
        turns.sort(key=lambda turn: (turn.start, turn.speaker))
        names = [f"SPEAKER_{index:02d}" for index in range(speakers)]
        return Diarization(
            duration=duration,
            engine=f"{self.name}; embeddings: {self._embedder.name}",
            turns=[SpeakerTurn(t.start, t.end, names[int(t.speaker)]) for t in turns],
            centroids={names[index]: centroid_vectors[index] for index in range(speakers)},
        )

    def _segments(self, starts: np.ndarray) -> np.ndarray:
        """Segment index of each window: runs of up to ``windows_per_segment`` consecutive windows."""
        segment_of = np.zeros(starts.size, dtype=np.int64)
        current, length = 0, 1
        for index in range(1, starts.size):
            if starts[index] - starts[index - 1] <= WINDOW_HOP_SAMPLES and length < self._tuning.windows_per_segment:
                length += 1
            else:
                current, length = current + 1, 1
            segment_of[index] = current
        return segment_of

    @staticmethod
    def _span(scores: FrameScores, first: int, end: int, duration: float) -> tuple[float, float]:
        half = scores.frame_step / 2
        start = max(0.0, float(scores.time_of(first)) - half)
        return start, min(duration, float(scores.time_of(end - 1)) + half)

    def _turns(self, frame_labels: np.ndarray, scores: FrameScores, duration: float) -> list[SpeakerTurn]:
        return [
            SpeakerTurn(*self._span(scores, first, end, duration), speaker=str(label))
            for label, first, end in _runs(frame_labels)
        ]

    def _second_speakers(
        self,
        frame_labels: np.ndarray,
        scores: FrameScores,
        mask: np.ndarray,
        nearest: np.ndarray,
        similarity: np.ndarray,
    ) -> np.ndarray:
        """Per frame, the second speaker where overlapped speech is detected (else -1): of the speakers other than
        the frame's own, the one whose centroid is most like the vector of the frame's nearest window
        (``similarity``: windows x speakers)."""
        overlapped = np.flatnonzero(mask & (scores.overlap > self._tuning.overlap_threshold))
        others = similarity[nearest[overlapped]]
        others[np.arange(overlapped.size), frame_labels[overlapped]] = -np.inf
        second = np.full(frame_labels.size, -1, dtype=np.int64)
        second[overlapped] = np.argmax(others, axis=1)
        return second
