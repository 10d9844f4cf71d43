"""Cutting long segments into pieces a sentence-trained model translates reliably."""

from __future__ import annotations

from app.engines.translation.base import FakeTextTranslator, split_for_translation, translate_by_sentence


def test_text_that_fits_stays_whole() -> None:
    assert split_for_translation("  The meeting starts at 10 a.m. tomorrow.\n", 60) == [
        "The meeting starts at 10 a.m. tomorrow."
    ]
    assert split_for_translation("   ", 60) == []


def test_long_text_is_packed_by_sentence_then_clause_then_word() -> None:
    text = "One two three. Four five six seven, eight nine ten eleven twelve. Thirteen."

    assert split_for_translation(text, 7) == [
        "One two three.",
        "Four five six seven,",
        "eight nine ten eleven twelve. Thirteen.",
    ]
    assert split_for_translation("a b c d e f g", 3) == ["a b c", "d e f", "g"]


def test_chinese_is_cut_at_its_own_punctuation() -> None:
    text = "今天天气很好，我们去公园散步吧。我爱我的国家。"  # noqa: RUF001 - Chinese punctuation

    assert split_for_translation(text, 9) == ["今天天气很好，", "我们去公园散步吧。", "我爱我的国家。"]  # noqa: RUF001 - Chinese punctuation


def test_pieces_are_reassembled_per_segment() -> None:
    seen: list[str] = []

    def engine(pieces: list[str]) -> list[str]:
        seen.extend(pieces)
        return [piece.upper() for piece in pieces]

    out = translate_by_sentence(["one. two three.", "", "four."], engine, target="en", max_words=2)

    assert out == ["ONE. TWO THREE.", "", "FOUR."]
    assert seen == ["one.", "two three.", "four."], "one engine call for the whole batch, blanks skipped"
    assert translate_by_sentence(["一。", "二。"], engine, target="zh", max_words=1) == ["一。", "二。"]


def test_fake_engine_tags_the_pair() -> None:
    fake = FakeTextTranslator([("de", "en")])

    assert fake.translate([" Hallo ", ""], source="de", target="en") == ["[de→en] Hallo", ""]


def test_numbers_and_times_are_not_clause_breaks() -> None:
    text = "word " * 40 + "paid 1,000,000 at 10:30, then left " + "x " * 30

    pieces = split_for_translation(text, 60)

    assert any("paid 1,000,000 at 10:30," in piece for piece in pieces), pieces
    assert " ".join(pieces).split() == text.split()  # nothing lost, nothing rewritten


def test_unpunctuated_chinese_and_thai_are_still_cut_to_size() -> None:
    chinese = "我" * 200
    thai = "สวัสดีครับ" * 20

    assert [len(piece) for piece in split_for_translation(chinese, 150)] == [150, 50]
    assert "".join(split_for_translation(chinese, 150)) == chinese
    assert "".join(split_for_translation(thai, 150)) == thai
    assert all(len(piece) <= 150 for piece in split_for_translation(thai, 150))


def test_chinese_clauses_packed_together_get_no_space() -> None:
    text = "今天天气很好，我们去公园散步吧，然后回家。"  # noqa: RUF001 - Chinese punctuation

    assert split_for_translation(text, 16) == ["今天天气很好，我们去公园散步吧，", "然后回家。"]  # noqa: RUF001


def test_korean_keeps_its_spaces_and_words() -> None:
    sentences = "안녕하세요 여러분. 오늘은 날씨가 좋네요. 우리는 공원에 갑니다."
    run_on = "그래서 우리는, 공원에 갔습니다 그리고 집에 왔습니다"

    assert split_for_translation(sentences, 20) == ["안녕하세요 여러분. 오늘은 날씨가 좋네요.", "우리는 공원에 갑니다."]
    pieces = split_for_translation(run_on, 8)
    assert " ".join(pieces).split() == run_on.split()  # no word cut in two
    assert split_for_translation("See, 東京，大阪。", 4) == ["See, 東京，", "大阪。"]  # noqa: RUF001 - a Latin word keeps its space
