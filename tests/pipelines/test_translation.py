"""Which source line Whisper's speech-translated English belongs to."""

from __future__ import annotations

from app.engines.transcriber import Segment
from app.pipelines.translation import english_by_segment


def segment(index: int, start: float, end: float, text: str = "") -> Segment:
    return Segment(id=index, start=start, end=end, text=text, words=[], avg_logprob=-0.2, no_speech_prob=0.0)


def test_each_english_segment_goes_to_exactly_one_source_line() -> None:
    source = [segment(1, 0.0, 2.0), segment(2, 3.0, 5.0), segment(3, 9.0, 10.0)]
    english = [
        segment(10, 1.0, 3.8, "Centred in the gap, but mostly over the first line."),
        segment(11, 2.5, 2.9, "Wholly in the gap, nearer the second line."),
        segment(12, 4.0, 9.5, "Over the second and third lines."),
    ]

    given = english_by_segment(source, english)

    assert {line: [e.id for e in heard] for line, heard in given.items()} == {1: [10], 2: [11, 12]}
    assert sum(len(heard) for heard in given.values()) == len(english)  # nothing dropped, nothing twice
    assert english_by_segment([], english) == {}


def test_english_reaches_only_the_lines_translated_from_it() -> None:
    """An English line keeps its own words; Whisper's English over it and a German line goes to the German one,
    and English heard only over the English line is not said a second time elsewhere."""
    source = [segment(1, 0.0, 5.0, "Hello everyone."), segment(2, 5.0, 6.5, "Danke schön."), segment(3, 8.0, 9.0)]
    english = [
        segment(10, 0.0, 6.5, "Hello everyone. Thank you very much."),
        segment(11, 1.0, 3.0, "Everyone."),
        segment(12, 7.2, 7.7, "In the gap, nearer the third line."),
    ]

    given = english_by_segment(source, english, takers={2, 3})

    assert {line: [e.id for e in heard] for line, heard in given.items()} == {2: [10], 3: [12]}
