"""The voice catalogue offers only measured, intelligible voices, and every choice names a voice that exists."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.engines.errors import ModelNotAvailable
from app.engines.synthesis import (
    MAX_WER,
    UNAVAILABLE,
    VOICE_CATALOGUE,
    SpeechSynthesizer,
    best_voice_for,
    bundled_voices,
    load_bundled_synthesizer,
    no_voice_reason,
)


@pytest.fixture(scope="module")
def engines(model_cache_dir: Path) -> dict[str, SpeechSynthesizer]:
    return {name: load_bundled_synthesizer(name, model_cache_dir) for name in ("piper", "kokoro")}


def test_every_catalogued_voice_is_offered_by_its_engine(engines: dict[str, SpeechSynthesizer]) -> None:
    for language, choice in VOICE_CATALOGUE.items():
        offered = {(v.id, v.language) for v in engines[choice.engine].voices()}
        assert (choice.voice, language) in offered
        assert max(choice.wer, choice.held_out_wer) <= MAX_WER


def test_english_is_spoken_by_the_fast_piper_voice() -> None:
    choice = best_voice_for("en")

    assert choice is not None
    assert (choice.engine, choice.voice) == ("piper", "joe")


def test_a_language_without_a_voice_is_explained() -> None:
    assert best_voice_for("zh") is None
    reason = no_voice_reason("zh")

    assert "'zh'" in reason
    assert all(language in reason for language in VOICE_CATALOGUE)


def test_rejected_languages_give_their_measured_reason() -> None:
    for language, reason in UNAVAILABLE.items():
        assert best_voice_for(language) is None
        assert no_voice_reason(language) == reason


def test_bundled_files_are_located_and_assembled_in_the_cache(model_cache_dir: Path) -> None:
    files = bundled_voices(model_cache_dir)

    assert files.piper.model.is_file() and files.piper.config.is_file()
    assert files.kokoro.model.is_relative_to(model_cache_dir)
    assert files.kokoro.voices.is_file() and files.kokoro.vocab.is_file()


def test_an_unknown_engine_is_not_available(model_cache_dir: Path) -> None:
    with pytest.raises(ModelNotAvailable):
        load_bundled_synthesizer("xtts", model_cache_dir)
