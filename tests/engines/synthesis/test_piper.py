"""The bundled Piper "joe" voice speaks English that Whisper understands, continuously and without clicks."""

from __future__ import annotations

import numpy as np
import pytest

from app.core.errors import InvalidInput
from app.engines.synthesis import VoiceNotAvailable
from app.engines.synthesis.piper import PiperSynthesizer, bundled_piper_files
from app.engines.whisper import FasterWhisperTranscriber
from tests.engines.synthesis import edges_of_inserted_silence, heard, longest_quiet_run, word_error_rate

PANGRAM = "The quick brown fox jumps over the lazy dog."
PARAGRAPH = (
    "Good morning, and welcome to the quarterly review. Sales grew in every region this spring. "
    "The new office opens in June, and the team is hiring. Questions are welcome at the end."
)


@pytest.fixture(scope="module")
def piper() -> PiperSynthesizer:
    files = bundled_piper_files()
    return PiperSynthesizer(files.model, files.config, cpu_threads=2)


def test_speaks_intelligibly(piper: PiperSynthesizer, whisper_base: FasterWhisperTranscriber) -> None:
    pangram = piper.synthesize(PANGRAM, language="en")
    paragraph = piper.synthesize(PARAGRAPH, language="en")

    assert pangram.sample_rate == 22050
    assert pangram.samples.dtype == np.float32
    assert 1.5 < pangram.duration < 5.0
    assert np.abs(pangram.samples).max() <= 1.0
    # Scored over all 41 words: the voice samples its timing afresh each time, and Whisper base now and then
    # hears one word ending differently ("jumped"), which alone would be 11 % of the pangram.
    said = f"{heard(whisper_base, pangram, 'en')} {heard(whisper_base, paragraph, 'en')}"
    assert word_error_rate(f"{PANGRAM} {PARAGRAPH}", said) <= 0.1


def test_a_paragraph_is_continuous_and_joined_without_clicks(piper: PiperSynthesizer) -> None:
    speech = piper.synthesize(PARAGRAPH, language="en")

    assert speech.duration > 8.0
    assert longest_quiet_run(speech) < 1.0
    joins = edges_of_inserted_silence(speech.samples, min_run=round(0.1 * speech.sample_rate))
    assert joins.size >= 6  # three sentence joins, two edges each
    assert joins.max() < 0.02
    assert np.abs(np.diff(speech.samples)).max() < 0.8


def test_speed_changes_the_pace(piper: PiperSynthesizer) -> None:
    natural = piper.synthesize(PARAGRAPH, language="en").duration
    faster = piper.synthesize(PARAGRAPH, language="en", speed=1.5).duration

    assert faster < natural * 0.8


def test_lists_its_one_english_voice(piper: PiperSynthesizer) -> None:
    [voice] = piper.voices()

    assert (voice.id, voice.language, voice.engine) == ("joe", "en", "piper:en_US-joe-medium")
    assert "GPL-3.0" in piper.licence


@pytest.mark.parametrize(("language", "voice"), [("es", None), ("en", "lessac")])
def test_refuses_other_languages_and_voices(piper: PiperSynthesizer, language: str, voice: str | None) -> None:
    with pytest.raises(VoiceNotAvailable) as caught:
        piper.synthesize("Hola.", language=language, voice=voice)

    assert caught.value.error_code == "VOICE_NOT_AVAILABLE"
    assert caught.value.status_code == 422
    assert caught.value.details == {"language": language, "voice": voice, "engine": "piper:en_US-joe-medium"}


def test_refuses_an_unusable_speed(piper: PiperSynthesizer) -> None:
    with pytest.raises(InvalidInput):
        piper.synthesize(PANGRAM, language="en", speed=3.0)
