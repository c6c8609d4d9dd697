"""The animated export's text: placed on measured boxes, never on other text, the legend or off the picture."""

import numpy as np
import pytest

from app.explorer.compute import compute
from app.explorer.state import from_query
from app.export import animation as A
from app.export import formats as E
from app.export.labels import overlap, within

#: six SGD runs from one start whose learning rates differ by 2%: all diverge at step 4, leaving the box
#: within a few pixels of each other, and a seventh run (Adam) that does not
RATES = (0.01, 0.0102, 0.0104, 0.0106, 0.0108, 0.011)
RACE = from_query("?surface=rosenbrock&start=-1.2,1&steps=60&" + "&".join(f"opt=sgd,lr={lr}" for lr in RATES)
                  + "&opt=adam,lr=0.05")  # fmt: skip
RESULT = compute(RACE)
SIZE = (500, 400)


def assert_apart_and_inside(labels, width, height):
    for i, (ta, a) in enumerate(labels):
        assert within(a, (0, 0, width, height)), (ta, a)
        for tb, b in labels[i + 1 :]:
            assert not overlap(a, b), (ta, a, tb, b)


def test_the_race_diverges_close_together():
    diverged = [r for r in RESULT.runs if r.trajectory.status == "diverged"]
    assert len(diverged) == len(RATES) and {r.trajectory.stop_step for r in diverged} == {4}
    sc = A.scene(RESULT, *SIZE, 40)
    crosses = np.array([(u, v) for _, u, v, _ in sc.markers])
    assert len(crosses) == len(RATES)
    # the crosses sit in a column less than a label's height apart: labels beside them would collide
    gaps = np.diff(np.sort(crosses[:, 1]))
    assert np.ptp(crosses[:, 0]) < 15 and gaps.min() < 15


def test_no_two_texts_of_any_frame_overlap_and_all_stay_inside_the_picture():
    sc = A.scene(RESULT, *SIZE, 40)
    seen_labels = 0
    for k in sc.steps:
        labels = A.frame_labels(sc, k)
        assert_apart_and_inside(labels, *SIZE)
        ends = [(t, b) for t, b in labels if t.startswith("diverged at step")]
        for t, b in ends:
            assert not overlap(b, sc.legend_box), (t, b, sc.legend_box)
        seen_labels = max(seen_labels, len(ends))
        texts = [t for t, _ in labels]
        assert f"step {k}" in texts and "Rosenbrock" in texts
        assert "x from -2 to 2,  y from -1 to 3" in texts
    assert seen_labels == len(RATES)  # every diverged run's label is drawn by the last frame
    last = dict(A.frame_labels(sc, sc.steps[-1]))
    for r in RESULT.runs:  # every run has its legend entry, and the legend is inside the picture's width
        assert r.entry.label() in last
    assert sc.legend_box[0] >= 0 and sc.legend_box[2] <= SIZE[0] and sc.legend_box[3] <= SIZE[1]


def test_the_labels_of_earlier_ends_stay_put_when_later_runs_end():
    sc = A.scene(RESULT, *SIZE, 40)
    placed = [label for _, label in sc.ends]
    assert len(placed) == len(RATES) and None not in placed
    for shows, label in sc.ends:
        frames = [k for k in sc.steps if (label.text, label.box) in A.frame_labels(sc, k)]
        assert frames == [k for k in sc.steps if k >= shows]  # from its run's end on, always in the same place


def test_the_frame_s_pixels_carry_each_label_inside_its_box_and_nowhere_else():
    sc = A.scene(RESULT, *SIZE, 40)
    base = A.background(RESULT, sc.canvas)
    k = sc.steps[-1]
    with_text = np.asarray(A.draw_frame(sc, base, k)).astype(int)
    without = np.asarray(A.draw_frame(sc, base, k, texts=False)).astype(int)
    changed = np.abs(with_text - without).sum(axis=2) > 0
    inside = np.zeros_like(changed)
    for text, (l, t, r, b) in A.frame_labels(sc, k):
        box = changed[int(np.floor(t)) : int(np.ceil(b)), int(np.floor(l)) : int(np.ceil(r))]
        assert box.sum() >= 3 * len(text.replace(" ", "")), text  # the text is drawn in its box
        inside[int(np.floor(t)) : int(np.ceil(b)), int(np.floor(l)) : int(np.ceil(r))] = True
    assert changed.sum() > 0 and not (changed & ~inside).any()  # and nothing outside the boxes
    # a diverged label is readable over the raster: dark-halo pixels of its colour and white
    label = next(t for _, t in sc.ends if t is not None)
    l, t, r, b = (round(c) for c in label.box)
    patch = with_text[t:b, l:r]
    assert (np.abs(patch - np.array(label.fill)).sum(axis=2) <= 30).sum() > 20
    assert (patch.sum(axis=2) >= 3 * 250).sum() > 20


@pytest.mark.parametrize("size", [(200, 200), (320, 240), (1000, 800)])
def test_many_runs_in_a_small_picture_keep_every_text_apart_and_inside(size):
    query = "?surface=beale&steps=80&" + "&".join(f"opt=sgd,lr=0.0{i + 1}" for i in range(9))
    result = compute(from_query(query + "&opt=adam&opt=rmsprop&opt=lion"))
    sc = A.scene(result, *size, 12)
    for k in sc.steps:
        assert_apart_and_inside(A.frame_labels(sc, k), *size)
    texts = [t for t, _ in A.frame_labels(sc, sc.steps[-1])]
    legend = [t for t in texts if "·" in t or t.endswith(" more")]
    assert legend  # some legend is drawn; whatever does not fit is counted in "+N more"
    more = [t for t in legend if t.endswith(" more")]
    shown = len(legend) - len(more)
    assert shown + (int(more[0].split()[0][1:]) if more else 0) == len(result.runs)
    assert sc.legend_box[3] - sc.legend_box[1] <= A.LEGEND_SHARE * size[1] + 1


def test_formats_keeps_the_animation_names_and_the_gif_has_the_frames():
    assert E.gif_bytes is A.gif_bytes and E.mp4_bytes is A.mp4_bytes and E.animation_frames is A.animation_frames
    frames = A.animation_frames(RESULT, E.ExportOptions(width=400, height=300, frames=6))
    assert len(frames) == len(A.frame_steps(RESULT, 6)) and frames[0].size == (400, 300)
