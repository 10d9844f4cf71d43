"""espeak-ng (as bundled by piper-tts) turns text into IPA per sentence, offline, in every configured language."""

# ruff: noqa: RUF001 (IPA strings use letters that look like ASCII)
from __future__ import annotations

import unicodedata
from concurrent.futures import ThreadPoolExecutor

import pytest

from app.engines.synthesis import VoiceNotAvailable
from app.engines.synthesis.phonemes import ESPEAK_VOICES, EspeakPhonemizer


@pytest.fixture(scope="module")
def phonemizer() -> EspeakPhonemizer:
    return EspeakPhonemizer()


def test_one_ipa_string_per_sentence_with_punctuation(phonemizer: EspeakPhonemizer) -> None:
    sentences = phonemizer.sentences("Church and judge, hello there! How are you?", language="en")

    assert sentences == ["tʃˈɜːtʃ ænd dʒˈʌdʒ, həlˈoʊ ðˈɛɹ!", "hˈaʊ ɑːɹ juː?"]


def test_nasal_vowels_are_decomposed(phonemizer: EspeakPhonemizer) -> None:
    [sentence] = phonemizer.sentences("Não sei.", language="pt")

    assert sentence == unicodedata.normalize("NFD", sentence)
    assert "\u0303" in sentence


def test_every_configured_language_has_a_voice(phonemizer: EspeakPhonemizer) -> None:
    for language in ESPEAK_VOICES:
        assert phonemizer.sentences("Uno.", language=language)
    assert phonemizer.languages == frozenset(ESPEAK_VOICES)


def test_nothing_to_say_gives_no_sentences(phonemizer: EspeakPhonemizer) -> None:
    assert phonemizer.sentences("  ... ", language="en") == []


def test_concurrent_callers_never_get_each_others_language(phonemizer: EspeakPhonemizer) -> None:
    def spanish(_: int) -> list[str]:
        return phonemizer.sentences("Buenos días.", language="es")

    def german(_: int) -> list[str]:
        return phonemizer.sentences("Guten Tag.", language="de")

    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(lambda i: spanish(i) if i % 2 else german(i), range(40)))

    assert {tuple(r) for r in results} == {tuple(spanish(0)), tuple(german(0))}


def test_refuses_a_language_without_rules(phonemizer: EspeakPhonemizer) -> None:
    with pytest.raises(VoiceNotAvailable) as caught:
        phonemizer.sentences("你好", language="zh")

    assert caught.value.details == {"language": "zh", "available_languages": sorted(ESPEAK_VOICES)}
