"""The XTTS v2 engine's real code path on a tiny random-weight XTTS (the real weights cannot be had here).

Random weights speak noise, so these tests check what the engine does with the model - folder checks, conditioning
kept as JSON, generation at XTTS's rate, speed and pitch, sentence streaming, errors - never intelligibility.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from app.engines.errors import ModelNotAvailable
from app.engines.synthesis import VoiceNotAvailable
from app.engines.voice.base import SpeakerReference
from app.engines.voice.xtts import REQUIRED_FILES, XttsCloner, xtts_info
from app.pipelines.audio import decode_audio
from app.pipelines.cloning import CloningPipeline


@pytest.fixture(scope="module")
def cloner(tiny_xtts_dir: Path) -> XttsCloner:
    return XttsCloner(tiny_xtts_dir)


@pytest.fixture(scope="module")
def reference(cloner: XttsCloner, testdata_dir: Path) -> SpeakerReference:
    samples = decode_audio(testdata_dir / "jfk.flac")
    bare = SpeakerReference(samples, np.zeros(256, dtype=np.float32), "en")
    conditioning = json.loads(json.dumps(cloner.condition(bare, "en")))  # stored with the profile as JSON
    return SpeakerReference(samples, bare.embedding, "en", conditioning)


def seeded_speech(cloner: XttsCloner, reference: SpeakerReference, text: str, **options: float) -> np.ndarray:
    import torch

    torch.manual_seed(7)  # XTTS samples its speech tokens: the same seed gives the same tokens
    speech = cloner.synthesize(text, language="en", reference=reference, **options)
    assert speech.sample_rate == cloner.sample_rate == 24000
    return speech.samples


def test_info_comes_from_the_folder_config_alone(tiny_xtts_dir: Path) -> None:
    info = xtts_info(tiny_xtts_dir)
    assert info.name == "xtts-v2" and info.kind == "voice cloning" and info.clones
    assert {"en", "es", "de", "zh", "ja"} <= set(info.languages) and "zh-cn" not in info.languages
    assert "non-commercial" in info.licence


@pytest.mark.parametrize("missing", REQUIRED_FILES)
def test_an_incomplete_folder_is_refused_naming_what_is_missing(
    tiny_xtts_dir: Path, tmp_path: Path, missing: str
) -> None:
    partial = tmp_path / "xtts"
    shutil.copytree(tiny_xtts_dir, partial)
    (partial / missing).unlink()
    with pytest.raises(ModelNotAvailable) as info:
        XttsCloner(partial)
    assert info.value.details == {"engine": "xtts-v2", "missing": [missing]}


def test_a_missing_folder_or_broken_weights_are_refused(tiny_xtts_dir: Path, tmp_path: Path) -> None:
    with pytest.raises(ModelNotAvailable):
        xtts_info(tmp_path / "nowhere")
    broken = tmp_path / "broken"
    shutil.copytree(tiny_xtts_dir, broken)
    (broken / "model.pth").write_bytes(b"not a checkpoint")
    with pytest.raises(ModelNotAvailable, match="could not be loaded"):
        XttsCloner(broken)


def test_conditioning_is_computed_from_the_reference_and_survives_json(
    cloner: XttsCloner, reference: SpeakerReference
) -> None:
    latents, speaker = reference.conditioning["gpt_cond_latent"], reference.conditioning["speaker_embedding"]
    assert latents["shape"] == [1, 32, 128] and speaker["shape"] == [1, 512, 1]
    other = SpeakerReference(reference.samples[::-1].copy(), reference.embedding, "en")
    assert cloner.condition(other, "en")["speaker_embedding"] != speaker  # it depends on the audio


def test_synthesis_follows_speed_and_pitch(cloner: XttsCloner, reference: SpeakerReference) -> None:
    natural = seeded_speech(cloner, reference, "Hello world.")
    assert natural.dtype == np.float32 and natural.size > 0 and np.all(np.isfinite(natural))
    assert np.abs(natural).max() <= 1.0
    fast = seeded_speech(cloner, reference, "Hello world.", speed=2.0)
    assert fast.size == pytest.approx(natural.size / 2, rel=0.15)
    shifted = seeded_speech(cloner, reference, "Hello world.", pitch=5.0)
    assert shifted.size == natural.size and not np.allclose(shifted, natural, atol=1e-3)


def test_a_language_xtts_does_not_speak_is_refused(cloner: XttsCloner, reference: SpeakerReference) -> None:
    with pytest.raises(VoiceNotAvailable) as info:
        cloner.synthesize("Hej världen.", language="sv", reference=reference)
    details = info.value.details
    assert isinstance(details, dict) and "en" in details["supported"]
    with pytest.raises(VoiceNotAvailable):
        cloner.condition(reference, "sv")


def test_long_text_streams_sentence_by_sentence(cloner: XttsCloner, reference: SpeakerReference) -> None:
    done: list[float | None] = []

    def hook(step: str, *, completed: float | None = None, total: float | None = None) -> None:
        done.append(completed)

    text = "First sentence here. A second one follows! And a third?"
    result = CloningPipeline(cloner).apply(text, language="en", reference=reference, hook=hook)
    assert result.sentences == 3 and result.speech.sample_rate == 24000
    assert done == [0, 1, 2, 3]
    assert result.speech.duration > 0.5
