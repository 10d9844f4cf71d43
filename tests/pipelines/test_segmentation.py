"""Re-segmenting long decoder chunks into subtitle-sized lines."""

from __future__ import annotations

from app.engines.transcriber import Segment, Word
from app.pipelines.segmentation import MAX_SEGMENT_SECONDS, ends_sentence, split_segments


def words_of(*spec: tuple[str, float, float]) -> list[Word]:
    return [Word(start=start, end=end, word=text, probability=0.9) for text, start, end in spec]


def segment(words: list[Word]) -> Segment:
    return Segment(
        id=7,
        start=words[0].start,
        end=words[-1].end,
        text="".join(w.word for w in words),
        words=words,
        avg_logprob=-0.2,
        no_speech_prob=0.01,
        language="en",
    )


def test_sentences_and_long_pauses_start_new_segments() -> None:
    words = words_of(
        (" Ask", 0.0, 0.4),
        (" not.", 0.4, 0.8),
        (" Ask", 1.0, 1.3),
        (" what", 1.3, 1.6),
        (" you", 3.0, 3.2),
        (" can", 3.2, 3.5),
        (" do?", 3.5, 3.9),
    )
    pieces = list(split_segments([segment(words)]))
    assert [p.text for p in pieces] == ["Ask not.", "Ask what", "you can do?"]
    assert [(p.start, p.end) for p in pieces] == [(0.0, 0.8), (1.0, 1.6), (3.0, 3.9)]
    assert [p.id for p in pieces] == [1, 2, 3] and all(p.language == "en" for p in pieces)


def test_run_on_sentences_are_bounded_at_a_clause_end() -> None:
    words = [Word(start=i * 0.5, end=i * 0.5 + 0.45, word=f" w{i}", probability=0.9) for i in range(60)]
    words[30] = Word(start=15.0, end=15.45, word=" w30,", probability=0.9)
    pieces = list(split_segments([segment(words)]))
    assert all(p.end - p.start <= MAX_SEGMENT_SECONDS for p in pieces)
    assert any(p.text.endswith("w30,") for p in pieces)
    assert " ".join(p.text for p in pieces) == "".join(w.word for w in words).strip()


def test_segments_without_words_pass_through() -> None:
    bare = Segment(id=3, start=1.0, end=2.0, text=" hi", words=[], avg_logprob=0.0, no_speech_prob=0.0, language="en")
    assert list(split_segments([bare])) == [Segment(**{**bare.__dict__, "id": 1})]


def test_titles_initials_and_abbreviations_inside_a_sentence_do_not_end_it() -> None:
    spoken = " We met at 9 a.m. with Dr. Smith and John F. Kennedy. Then we left at 5 p.m. It rained."
    words = [
        Word(start=i * 0.3, end=i * 0.3 + 0.25, word=f" {w}", probability=0.9) for i, w in enumerate(spoken.split())
    ]

    pieces = [p.text for p in split_segments([segment(words)])]

    assert pieces == ["We met at 9 a.m. with Dr. Smith and John F. Kennedy.", "Then we left at 5 p.m.", "It rained."]


def test_sentence_ends_by_their_mark_and_what_follows() -> None:
    assert ends_sentence(" done.", None) and ends_sentence(" really?", " yes") and ends_sentence(" 好。", " 我")
    assert not ends_sentence(" Mr.", " Smith") and not ends_sentence(" e.g.", " this")
    assert ends_sentence(" U.S.", " Then") and not ends_sentence(" word", " Next")
    assert not ends_sentence(" F.", " Kennedy", previous=" John")
    assert ends_sentence(" B.", " Then", previous=" plan")  # a letter, not an initial
