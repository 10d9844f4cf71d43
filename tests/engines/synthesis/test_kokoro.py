"""Kokoro-82M, driven by espeak-ng IPA, speaks the catalogued languages intelligibly and long text continuously."""

# ruff: noqa: RUF001 (IPA strings use letters that look like ASCII)
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from app.engines.synthesis import VoiceNotAvailable, best_voice_for
from app.engines.synthesis.kokoro import (
    MAX_PHONEMES,
    SAMPLE_RATE,
    KokoroFiles,
    KokoroSynthesizer,
    bundled_kokoro_files,
    load_vocab,
    to_kokoro_symbols,
)
from app.engines.synthesis.phonemes import EspeakPhonemizer, pack_chunks
from app.engines.whisper import FasterWhisperTranscriber
from tests.engines.synthesis import edges_of_inserted_silence, heard, longest_quiet_run, word_error_rate

SPANISH = "¿Dónde está la biblioteca? Me gustaría un café con leche, por favor."
PORTUGUESE = "O menino comeu pão com manteiga antes de ir para a escola."


@pytest.fixture(scope="module")
def kokoro_files(model_cache_dir: Path) -> KokoroFiles:
    return bundled_kokoro_files(model_cache_dir)


@pytest.fixture(scope="module")
def kokoro(kokoro_files: KokoroFiles) -> KokoroSynthesizer:
    return KokoroSynthesizer(
        kokoro_files.model,
        kokoro_files.voices,
        load_vocab(kokoro_files.vocab),
        phonemizer=EspeakPhonemizer(),
        cpu_threads=2,
    )


def test_the_model_is_assembled_once_inside_the_cache(kokoro_files: KokoroFiles, model_cache_dir: Path) -> None:
    assert kokoro_files.model.is_relative_to(model_cache_dir)
    assert kokoro_files.model.stat().st_size > 80_000_000
    before = kokoro_files.model.stat().st_mtime_ns

    assert bundled_kokoro_files(model_cache_dir) == kokoro_files
    assert kokoro_files.model.stat().st_mtime_ns == before
    assert not [p for p in kokoro_files.model.parent.iterdir() if p.name.startswith(".")]


def test_speaks_spanish_intelligibly(kokoro: KokoroSynthesizer, whisper_base: FasterWhisperTranscriber) -> None:
    choice = best_voice_for("es")
    assert choice is not None and choice.engine == "kokoro"

    speech = kokoro.synthesize(SPANISH, language="es", voice=choice.voice)

    assert speech.sample_rate == SAMPLE_RATE
    assert speech.samples.dtype == np.float32
    assert word_error_rate(SPANISH, heard(whisper_base, speech, "es")) <= 0.2


def test_speaks_portuguese_if_catalogued(kokoro: KokoroSynthesizer, whisper_base: FasterWhisperTranscriber) -> None:
    choice = best_voice_for("pt")
    if choice is None:
        pytest.skip("Portuguese did not reach the catalogue's WER bar")

    speech = kokoro.synthesize(PORTUGUESE, language="pt", voice=choice.voice)

    assert word_error_rate(PORTUGUESE, heard(whisper_base, speech, "pt")) <= 0.2


def test_long_text_is_chunked_and_joined_continuously(kokoro_files: KokoroFiles) -> None:
    # A tiny chunk limit makes three short sentences behave like a long text: three chunks, two joins.
    phonemizer = EspeakPhonemizer()
    small_chunks = KokoroSynthesizer(
        kokoro_files.model,
        kokoro_files.voices,
        load_vocab(kokoro_files.vocab),
        phonemizer=phonemizer,
        chunk_phonemes=20,
        cpu_threads=2,
    )
    text = "Hola. Buenos días. Hasta luego."
    chunks = list(pack_chunks([to_kokoro_symbols(s, "es") for s in phonemizer.sentences(text, language="es")], 20))

    speech = small_chunks.synthesize(text, language="es")

    assert len(chunks) == 3
    assert longest_quiet_run(speech) < 1.0
    joins = edges_of_inserted_silence(speech.samples, min_run=round(0.1 * SAMPLE_RATE))
    assert joins.size == 2 * (len(chunks) - 1)
    assert joins.max() < 0.02
    assert np.abs(np.diff(speech.samples)).max() < 0.8


def test_chunks_keep_whole_words_under_the_limit() -> None:
    sentence = "ˈuna frˈase " * 80 + "fˈin."
    chunks = list(pack_chunks(["ˈola.", sentence, "aðjˈos."], MAX_PHONEMES))

    assert all(len(chunk) <= MAX_PHONEMES for chunk in chunks)
    assert " ".join(chunks).split() == f"ˈola. {sentence} aðjˈos.".split()


def test_diphthongs_and_affricates_become_kokoro_symbols() -> None:
    assert to_kokoro_symbols("tʃˈɜːtʃ dʒˈʌdʒ", "en") == "ʧˈɜɹʧ ʤˈʌʤ"
    assert to_kokoro_symbols("bɹˈaʊn lˈeɪzi ˌoʊvɚ", "en") == "bɹˈWn lˈAzi ˌOvəɹ"
    assert to_kokoro_symbols("lˈeʧe pˈero", "es") == "lˈeʧe pˈero"


def test_offers_every_voice_in_every_pronounced_language(kokoro: KokoroSynthesizer) -> None:
    voices = kokoro.voices()

    assert {v.language for v in voices} == {"en", "es", "pt", "de", "fr", "it"}
    assert {v.id for v in voices} == {"jf_alpha", "jf_gongitsune", "jf_nezumi", "jf_tebukuro", "jm_kumo"}
    assert "Apache-2.0" in kokoro.licence


@pytest.mark.parametrize(("language", "voice"), [("zh", None), ("es", "af_heart")])
def test_refuses_what_it_cannot_speak(kokoro: KokoroSynthesizer, language: str, voice: str | None) -> None:
    with pytest.raises(VoiceNotAvailable) as caught:
        kokoro.synthesize("Hola.", language=language, voice=voice)

    assert caught.value.error_code == "VOICE_NOT_AVAILABLE"
    assert isinstance(caught.value.details, dict)
    assert caught.value.details["language"] == language
