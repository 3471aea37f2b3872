"""converter/pipeline/timing.py: the parts of a task's time."""

from __future__ import annotations

import time

from converter.pipeline.timing import Stopwatch, first_pull


def test_parts_add_up_by_name_in_the_order_they_first_ran() -> None:
    watch = Stopwatch()
    with watch.part("probe"):
        time.sleep(0.01)
    watch.add("encode", 0.5)
    with watch.part("probe"):
        time.sleep(0.01)
    assert list(watch.parts) == ["probe", "encode"]
    assert 0.02 <= watch.parts["probe"] < 0.5
    assert str(watch).startswith("probe 0.0") and ", encode 0.50s; total " in str(watch)


def test_a_part_that_raises_is_still_timed() -> None:
    watch = Stopwatch()
    try:
        with watch.part("fetch"):
            raise OSError("gone")
    except OSError:
        pass
    assert "fetch" in watch.parts


def test_the_first_frame_is_timed_from_the_first_request() -> None:
    seen: list[tuple[float, float]] = []

    def slow_start():
        time.sleep(0.05)
        yield from (1, 2, 3)

    frames = first_pull(slow_start(), lambda asked, got: seen.append((asked, got)))
    time.sleep(0.3)  # not counted: nothing was asked for yet
    assert list(frames) == [1, 2, 3]
    ((asked, got),) = seen
    assert 0.05 <= got - asked < 0.3
