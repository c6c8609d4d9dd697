"""The themes in Chromium: every page passes axe-core in light, dark and projector; ``?theme=dark``
darkens the page; the header's switch works by keyboard and its choice survives a reload; the
system's dark preference is followed when nothing was chosen.

Each test opens its own browser context (the session's shared one must not keep a saved theme).
"""

from __future__ import annotations

import pytest

from tests.browser.axe import describe, violations
from tests.browser.conftest import VIEWPORT

SWITCH = "select[data-theme-switch]"
THEMES = ("light", "dark", "projector")
#: each page's own root element (its background is what the reader sees)
ROOTS = {"": ".explorer", "maps": ".maps-app", "lab": ".lab-page", "lessons": ".lesson-page",
         "lesson/gd_quadratic": ".lesson-page", "room": ".lesson-page"}

LUMINANCE = """(sel) => {
  const c = getComputedStyle(document.querySelector(sel)).backgroundColor.match(/[\\d.]+/g).map(Number);
  const lin = (v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); };
  return 0.2126 * lin(c[0]) + 0.7152 * lin(c[1]) + 0.0722 * lin(c[2]);
}"""


@pytest.fixture
def fresh(browser, live_server):
    """A new page in a new context (nothing saved), and a way to make more with other options."""
    made = []

    def new(**options):
        ctx = browser.new_context(viewport=VIEWPORT, **options)
        made.append(ctx)
        page = ctx.new_page()
        page.set_default_timeout(20_000)
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.errors = errors  # type: ignore[attr-defined]
        return page

    new.base = live_server  # type: ignore[attr-defined]
    yield new
    for ctx in made:
        ctx.close()


def _open(page, base: str, path: str) -> None:
    """Open a page and wait until it has drawn its header and its first figure."""
    page.goto(base + path)
    page.wait_for_selector(SWITCH, state="attached")
    name = path.split("?")[0]
    if name == "":
        page.wait_for_function("window.DescentLab && DescentLab.state().applied >= 1")
    elif name in ("maps", "lab"):
        page.wait_for_selector(".js-plotly-plot .main-svg", state="attached")


def _shown(page) -> dict:
    return page.evaluate(
        """(sel) => ({attr: document.documentElement.getAttribute('data-theme'), name: DescentTheme.name(),
                      switches: [...document.querySelectorAll(sel)].map(s => s.value),
                      rootPx: parseFloat(getComputedStyle(document.documentElement).fontSize)})""",
        SWITCH,
    )


@pytest.mark.parametrize("path", list(ROOTS))
def test_every_theme_passes_axe_and_a_dark_link_darkens_the_page(fresh, path):
    page = fresh()
    sep = "&" if "?" in path else "?"
    _open(page, fresh.base, f"{path}{sep}theme=dark")
    shown = _shown(page)
    assert shown["attr"] == "dark" and shown["name"] == "dark" and shown["switches"] == ["dark"]
    assert page.evaluate(LUMINANCE, ROOTS[path]) < 0.05 and page.evaluate(LUMINANCE, "body") < 0.05
    for name in THEMES:
        page.evaluate("(n) => DescentTheme.set(n)", name)
        page.wait_for_function("(n) => DescentTheme.name() === n", arg=name)
        found = violations(page)
        assert not found, f"{path or '/'} in {name}:\n" + describe(found)
    assert page.evaluate(LUMINANCE, ROOTS[path]) > 0.8  # projector: a white page
    assert not page.errors


@pytest.mark.parametrize("path", ["", "lessons"])
def test_projector_chosen_by_keyboard_applies_at_once_and_survives_a_reload(fresh, path):
    page = fresh()
    _open(page, fresh.base, path)
    before = _shown(page)
    assert before["attr"] is None and before["name"] == "light" and before["switches"] == ["light"]
    page.evaluate("document.addEventListener('descent-theme', e => { window.__themes = (window.__themes || []).concat(e.detail.name); })")
    page.focus(SWITCH)
    page.keyboard.press("End")  # the last option of a closed select: Projector
    page.wait_for_function("document.documentElement.getAttribute('data-theme') === 'projector'")
    after = _shown(page)
    assert after["switches"] == ["projector"] and after["rootPx"] > before["rootPx"] * 1.2
    assert page.evaluate("window.__themes") == ["projector"]
    assert page.evaluate("localStorage.getItem('descent-lab:theme')") == "projector"
    page.reload()
    page.wait_for_selector(SWITCH, state="attached")
    reloaded = _shown(page)
    assert reloaded["attr"] == "projector" and reloaded["switches"] == ["projector"] and reloaded["rootPx"] == after["rootPx"]
    assert not page.errors


def test_the_system_dark_preference_applies_until_something_is_chosen(fresh):
    page = fresh(color_scheme="dark")
    _open(page, fresh.base, "lessons")
    shown = _shown(page)
    assert shown["attr"] == "dark" and shown["switches"] == ["dark"]
    assert page.evaluate(LUMINANCE, ".lesson-page") < 0.05
    page.select_option(SWITCH, "light")  # a saved choice wins over the system's preference
    page.wait_for_function("document.documentElement.getAttribute('data-theme') === null")
    page.reload()
    page.wait_for_selector(SWITCH, state="attached")
    assert _shown(page)["name"] == "light"
    light = fresh(color_scheme="light")
    _open(light, fresh.base, "lessons")
    assert _shown(light)["attr"] is None


def test_a_link_theme_wins_over_the_saved_one_and_is_saved(fresh):
    page = fresh()
    _open(page, fresh.base, "lessons?theme=projector")
    page.evaluate("DescentTheme.set('dark')")
    _open(page, fresh.base, "lessons?theme=projector")
    assert _shown(page)["attr"] == "projector"
    _open(page, fresh.base, "lessons")
    assert _shown(page)["attr"] == "projector"
    _open(page, fresh.base, "lessons?theme=bogus")  # an unknown value: the saved one
    assert _shown(page)["attr"] == "projector"


def test_the_api_maps_the_palette_and_scales_lines_per_theme(fresh):
    page = fresh()
    _open(page, fresh.base, "lessons")
    api = """() => ({name: DescentTheme.name(), scale: DescentTheme.lineScale(), black: DescentTheme.runColor('#000000'),
                     blue: DescentTheme.runColor('#0072B2'), ink: DescentTheme.ink(), halo: DescentTheme.halo()})"""
    light = page.evaluate(api)
    page.evaluate("DescentTheme.set('dark')")
    dark = page.evaluate(api)
    page.evaluate("DescentTheme.set('projector')")
    projector = page.evaluate(api)
    assert (light["scale"], dark["scale"]) == (1, 1) and projector["scale"] > 1.5
    assert light["black"] == "#000000" and dark["black"] == "#ffffff" and dark["blue"] == "#0072B2"
    assert dark["ink"] != light["ink"] and dark["halo"] != light["halo"]
    assert page.evaluate("DescentTheme.set('neon')") is False and page.evaluate("DescentTheme.name()") == "projector"


@pytest.mark.parametrize(
    "device",
    [{"viewport": {"width": 360, "height": 740}, "has_touch": True, "is_mobile": True},  # a narrow phone: coarse pointer
     {"viewport": {"width": 1024, "height": 768}}],  # a small laptop or an old projector
    ids=["phone-360", "laptop-1024"],
)  # fmt: skip
def test_no_page_scrolls_sideways_in_any_theme_and_the_switch_fits_a_finger(browser, live_server, device):
    ctx = browser.new_context(**device)
    try:
        page = ctx.new_page()
        page.set_default_timeout(20_000)
        width = device["viewport"]["width"]
        for path in [*ROOTS, "lesson/gd_quadratic"]:
            _open(page, live_server, path)
            for name in THEMES:
                page.evaluate("(n) => DescentTheme.set(n)", name)
                size = page.evaluate(
                    """(sel) => { const r = document.querySelector(sel).getBoundingClientRect();
                                  return {scroll: document.documentElement.scrollWidth, inner: innerWidth, h: r.height, w: r.width,
                                          right: r.right}; }""",
                    SWITCH,
                )
                where = f"{path or '/'} in {name}: {size}"
                assert size["inner"] == width and size["scroll"] <= width and size["right"] <= width, where
                if device.get("has_touch"):
                    assert size["h"] >= 44 and size["w"] >= 44, where
    finally:
        ctx.close()
