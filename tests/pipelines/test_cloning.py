"""How cloning text is cut into the sentences synthesized one by one."""

from __future__ import annotations

from app.pipelines.cloning import MAX_SENTENCE_CHARS, split_sentences

JFK_ZH = "不要问你的国家能为你做什么，要问你能为你的国家做什么。"  # noqa: RUF001 - Chinese punctuation


def test_sentences_end_at_their_marks_in_any_script() -> None:
    assert split_sentences("Hello there. How are you?\nFine") == ["Hello there.", "How are you?", "Fine"]
    # Chinese and Japanese put no space after their full stops.
    assert split_sentences(JFK_ZH * 3) == [JFK_ZH] * 3
    assert split_sentences("今日は晴れです。明日は雨でしょう！") == ["今日は晴れです。", "明日は雨でしょう！"]  # noqa: RUF001


def test_long_sentences_are_cut_at_a_late_comma_then_a_space_and_never_over_the_limit() -> None:
    english = " ".join(["word"] * 50) + " and then, a comma " + " ".join(["word"] * 30)
    first, second = split_sentences(english)
    assert first.endswith("and then,") and second.startswith("a comma")

    chinese = JFK_ZH.rstrip("。") * 20  # one sentence of 520 characters, commas but no spaces
    parts = split_sentences(chinese)
    assert all(len(part) <= MAX_SENTENCE_CHARS for part in parts) and "".join(parts) == chinese
    assert parts[0].endswith("，")  # noqa: RUF001

    assert [len(part) for part in split_sentences("x" * 650)] == [300, 300, 50]
