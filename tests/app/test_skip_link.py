"""The shared skip link points at an element id and refuses anything else."""

from __future__ import annotations

import pytest

from app.shell.skip import skip_link


def test_a_skip_link_is_a_fragment_link_with_its_text():
    link = skip_link("maps-view", "Skip to the map")
    assert (link.href, link.children, link.className) == ("#maps-view", "Skip to the map", "skip-link")


@pytest.mark.parametrize("bad", ["", "two words", "tab\there"])
def test_a_skip_link_needs_a_real_id(bad):
    with pytest.raises(ValueError, match="needs an element id"):
        skip_link(bad, "Skip")
