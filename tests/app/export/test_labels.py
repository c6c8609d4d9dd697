"""Label placement on boxes: the geometry the static and the animated exports share."""

import pytest

from app.export.labels import POSITIONS, box_at, first_free, flow, label_box, overlap, shift_inside, within


def test_box_at_puts_the_box_on_the_named_side_of_the_point():
    assert box_at(100, 50, 40, 10, "top right", pad=2) == (102, 38, 142, 48)
    assert box_at(100, 50, 40, 10, "bottom left", pad=2) == (58, 52, 98, 62)
    assert box_at(100, 50, 40, 10, "middle right", pad=2) == (102, 45, 142, 55)
    assert box_at(100, 50, 40, 10, "top center", pad=2) == (80, 38, 120, 48)
    # label_box is box_at with a size estimated from the font size and the text's length
    l, t, r, b = label_box(100, 50, "abcd", 10, "top right")
    assert (r - l, b - t) == pytest.approx((4 * 0.62 * 10, 1.25 * 10))


def test_overlap_and_within_treat_touching_boxes_as_apart():
    assert overlap((0, 0, 10, 10), (5, 5, 15, 15))
    assert not overlap((0, 0, 10, 10), (10, 0, 20, 10))  # they share an edge only
    assert within((1, 1, 9, 9), (0, 0, 10, 10)) and within((0, 0, 10, 10), (0, 0, 10, 10))
    assert not within((1, 1, 11, 9), (0, 0, 10, 10))


def test_shift_inside_moves_the_least_and_refuses_a_box_too_large():
    assert shift_inside((-5, 2, 5, 8), (0, 0, 100, 100)) == (0, 2, 10, 8)
    assert shift_inside((95, 97, 105, 103), (0, 0, 100, 100)) == (90, 94, 100, 100)
    assert shift_inside((20, 20, 30, 30), (0, 0, 100, 100)) == (20, 20, 30, 30)
    assert shift_inside((0, 0, 120, 10), (0, 0, 100, 100)) is None


def test_first_free_takes_the_first_position_clear_of_every_taken_box():
    assert first_free(50, 50, 20, 10, POSITIONS, [], pad=0) == ("top right", (50, 40, 70, 50))
    taken = [(50, 40, 70, 50)]  # top right is taken: bottom right is next
    assert first_free(50, 50, 20, 10, POSITIONS, taken, pad=0) == ("bottom right", (50, 50, 70, 60))
    ring = [box_at(50, 50, 20, 10, p, 0) for p in POSITIONS]  # every position at distance 0 is taken
    assert first_free(50, 50, 20, 10, POSITIONS, ring, pad=0) is None
    pos, box = first_free(50, 50, 20, 10, POSITIONS, ring, pad=0, rings=2)
    assert pos == "top right" and box == (60, 30, 80, 40)  # one box height further out
    assert not any(overlap(box, other) for other in ring)


def test_first_free_keeps_boxes_inside_the_bounds():
    bounds = (0, 0, 100, 100)
    pos, box = first_free(98, 5, 30, 10, ("top right",), [], bounds, pad=2)
    assert pos == "top right" and box == (70, 0, 100, 10) and within(box, bounds)
    assert first_free(50, 50, 200, 10, POSITIONS, [], bounds) is None


def test_flow_wraps_rows_inside_the_span():
    assert flow([30, 30, 30], 0, 100, 10) == [(0, 0), (40, 0), (0, 1)]
    assert flow([30, 30, 20], 0, 100, 10) == [(0, 0), (40, 0), (80, 0)]  # exactly fills the row
    assert flow([150, 20, 20], 10, 100, 5) == [(10, 0), (10, 1), (35, 1)]  # too wide: a row of its own
    assert flow([], 0, 100, 10) == []
