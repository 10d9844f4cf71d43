"""XTTS v2 (the maintained ``coqui-tts`` package): neural zero-shot cloning from a local weights folder.

The weights cannot ship with the service (Coqui Public Model License, non-commercial), so a deployment that has them
points ``XTTS_MODEL_DIR`` at the folder holding ``config.json``, ``model.pth`` and ``vocab.json``. torch and
coqui-tts come with the optional ``xtts`` extra and are imported only when the engine loads, so the API and a default
install never need them; ``xtts_info`` reads only the folder's ``config.json``.

Conditioning (the GPT conditioning latents and the decoder's speaker embedding) is computed once per profile from
its cleaned reference and stored with it as little-endian float32, so jobs never touch the reference again.
"""

from __future__ import annotations

import base64
import json
import logging
import threading
from pathlib import Path
from typing import Any

import numpy as np

from app.engines.errors import MODEL_LOAD_ERRORS, ModelNotAvailable
from app.engines.synthesis import VoiceNotAvailable
from app.engines.synthesis.base import SynthesizedSpeech, check_speed, shift_pitch
from app.engines.voice.base import EngineInfo, SpeakerReference

logger = logging.getLogger(__name__)

NAME = "xtts-v2"
REQUIRED_FILES = ("config.json", "model.pth", "vocab.json")
REFERENCE_RATE = 16000
"""Profiles keep their cleaned reference at 16 kHz; XTTS resamples it to 22.05 kHz for its GPT conditioning."""
_LANGUAGE_ALIASES = {"zh": "zh-cn"}
"""ISO 639-1 codes the API uses -> the language tags of XTTS's tokenizer."""


def _missing_files(model_dir: Path) -> list[str]:
    return [name for name in REQUIRED_FILES if not (model_dir / name).is_file()]


def xtts_info(model_dir: Path) -> EngineInfo:
    """What the XTTS folder offers, read from its ``config.json`` alone (no torch).

    Raises:
        ModelNotAvailable: the folder is missing, lacks one of ``REQUIRED_FILES``, or its config is unreadable.
    """
    missing = _missing_files(model_dir)
    if missing:
        logger.error("XTTS_MODEL_DIR %s lacks %s", model_dir, ", ".join(missing))
        raise ModelNotAvailable(
            "The voice cloning model is not installed completely", details={"engine": NAME, "missing": missing}
        )
    try:
        languages = json.loads((model_dir / "config.json").read_text())["languages"]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        logger.error("unreadable XTTS config in %s: %s", model_dir, exc)
        raise ModelNotAvailable(
            "The voice cloning model's configuration is unreadable", details={"engine": NAME}
        ) from exc
    codes = sorted({str(tag).split("-")[0] for tag in languages})
    return EngineInfo(
        name=NAME,
        kind="voice cloning",
        clones=True,
        languages=codes,
        licence="coqui-tts MPL-2.0; XTTS v2 weights: Coqui Public Model License (non-commercial), supplied by the "
        "deployment",
        description="Neural zero-shot cloning: a GPT conditioned on the reference speaker predicts speech tokens that "
        "a HiFi-GAN decoder, conditioned on the speaker embedding, turns into 24 kHz audio.",
    )


def _pack(array: np.ndarray) -> dict[str, Any]:
    data = np.ascontiguousarray(array, dtype="<f4")
    return {"shape": list(data.shape), "float32": base64.b64encode(data.tobytes()).decode("ascii")}


def _unpack(packed: dict[str, Any]) -> np.ndarray:
    flat = np.frombuffer(base64.b64decode(packed["float32"]), dtype="<f4")
    return flat.reshape(packed["shape"]).astype(np.float32)


class XttsCloner:
    """A ``VoiceCloner`` running coqui-tts' XTTS model.

    Args:
        model_dir: the weights folder (``config.json``, ``model.pth``, ``vocab.json``).
        device: ``cpu`` or ``cuda`` (from ``DEVICE_STRATEGY``).
        cpu_threads: torch intra-op threads on CPU; 0 keeps torch's default.

    Raises:
        ModelNotAvailable: the folder is incomplete, the ``xtts`` extra is not installed, or the weights do not load.
    """

    def __init__(self, model_dir: Path, *, device: str = "cpu", cpu_threads: int = 0) -> None:
        self.info = xtts_info(model_dir)
        try:
            import torch
            from TTS.tts.configs.xtts_config import XttsConfig
            from TTS.tts.models.xtts import Xtts
        except ImportError as exc:
            logger.error("XTTS_MODEL_DIR is set but the xtts extra is not installed: %s", exc)
            raise ModelNotAvailable(
                "The voice cloning engine is not installed", details={"engine": NAME, "install": "audio-api[xtts]"}
            ) from exc
        if cpu_threads and device == "cpu":
            torch.set_num_threads(cpu_threads)
        try:
            config = XttsConfig()
            config.load_json(str(model_dir / "config.json"))
            model = Xtts(config)
            model.load_checkpoint(config, checkpoint_dir=str(model_dir), use_deepspeed=False)
        except MODEL_LOAD_ERRORS as exc:
            logger.error("could not load XTTS from %s: %s", model_dir, exc)
            raise ModelNotAvailable("The voice cloning model could not be loaded", details={"engine": NAME}) from exc
        self._torch = torch
        self._config = config
        model.to(device)
        model.eval()  # coqui's Xtts.eval returns None, unlike torch's Module.eval
        self._model = model
        self._lock = threading.Lock()

    @property
    def sample_rate(self) -> int:
        return int(self._config.model_args.output_sample_rate)

    def _language(self, language: str) -> str:
        if language not in self.info.languages:
            raise VoiceNotAvailable(
                f"XTTS does not speak '{language}'", details={"language": language, "supported": self.info.languages}
            )
        return _LANGUAGE_ALIASES.get(language, language)

    def condition(self, reference: SpeakerReference, language: str) -> dict[str, Any]:
        """GPT conditioning latents and speaker embedding of the reference (the same for every language)."""
        self._language(language)
        config = self._config
        audio = self._torch.from_numpy(np.ascontiguousarray(reference.samples, dtype=np.float32)).unsqueeze(0)
        with self._lock:
            latents = self._model.get_gpt_cond_latents(
                audio, REFERENCE_RATE, length=config.gpt_cond_len, chunk_length=config.gpt_cond_chunk_len
            )
            speaker = self._model.get_speaker_embedding(audio[:, : REFERENCE_RATE * config.max_ref_len], REFERENCE_RATE)
        return {
            "gpt_cond_latent": _pack(latents.cpu().numpy()),
            "speaker_embedding": _pack(speaker.cpu().numpy()),
        }

    def synthesize(
        self, text: str, *, language: str, reference: SpeakerReference, speed: float = 1.0, pitch: float = 0.0
    ) -> SynthesizedSpeech:
        """Speak ``text``; XTTS's own speed control keeps the pitch, and a pitch shift is done by Rubber Band.

        Sentences longer than XTTS's per-language limit are split by its tokenizer's limits before generation.
        """
        check_speed(speed)
        tag = self._language(language)
        fitted = reference.conditioning or self.condition(reference, language)
        torch, config = self._torch, self._config
        latents = torch.from_numpy(_unpack(fitted["gpt_cond_latent"]))
        speaker = torch.from_numpy(_unpack(fitted["speaker_embedding"]))
        with self._lock:
            output = self._model.inference(
                text,
                tag,
                latents,
                speaker,
                temperature=config.temperature,
                length_penalty=config.length_penalty,
                repetition_penalty=config.repetition_penalty,
                top_k=config.top_k,
                top_p=config.top_p,
                speed=speed,
                enable_text_splitting=True,
            )
        samples = np.clip(np.asarray(output["wav"], dtype=np.float32).reshape(-1), -1.0, 1.0)
        if pitch:
            samples = shift_pitch(samples, self.sample_rate, pitch)
        return SynthesizedSpeech(samples=samples, sample_rate=self.sample_rate)
