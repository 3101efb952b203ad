"""The layout in Chromium at 1280, 1024 and 800 px: nothing overlaps, nothing sticks out, no text
below 13 px, 6 layers of 8 neurons fit a 1280x800 window without scrolling, and below ~900 px the
panels stack. Each case saves a screenshot (kept with DEEPNUM_SCREENSHOTS=folder).

Before: at 1280 px six layers made the network 938 px wide in a 692 px panel, at 1024 px the
layer buttons overlapped the neuron headings, and at 800 px the page was wider than the window."""

import pytest

from .browser import LAYOUT_PROBLEMS

pytestmark = pytest.mark.slow

WIDE = "hidden=8,8,8,8,8,8&activations=leaky_relu,tanh,tanh,sigmoid,tanh,softplus"
THREE = "dataset=spiral&num_classes=3&hidden=8,8,8&activations=relu,relu,relu"


@pytest.mark.parametrize("width", [1280, 1024, 800])
@pytest.mark.parametrize("name, fragment, extra", [
    ("six-by-eight", WIDE, None),
    ("three-classes-inspector-compare", THREE + "&compare=1&b_hidden=4,2", "inspect"),
    ("regression", "dataset=plane&hidden=3", None),
])
def test_nothing_overlaps_or_overflows(tabs, tmp_path, width, name, fragment, extra):
    tab = tabs(width=width).open(fragment)
    tab.wait("document.querySelectorAll('.node').length > 0")
    if extra == "inspect":
        tab.page.click(".node[data-column='1'][data-index='0']")
        tab.wait("!document.getElementById('inspector').hidden")
        tab.wait("!document.getElementById('compare').hidden")
    tab.wait_ready()
    shot = tab.screenshot(tmp_path / "shot.png", f"layout-{width}-{name}.png")
    assert shot.stat().st_size > 20_000
    assert tab.eval(LAYOUT_PROBLEMS) == []
    tab.check_clean()


def test_six_layers_of_eight_fit_1280_by_800_without_scrolling(tabs):
    tab = tabs(width=1280, height=800).open(WIDE)
    tab.wait("document.querySelectorAll('.node').length === 7 + 48 + 2")
    size = tab.eval("""() => {
      const panel = document.querySelector('.panel.network');
      const diagram = document.getElementById('diagram').getBoundingClientRect();
      const box = panel.getBoundingClientRect();
      return {page: [document.documentElement.scrollWidth, document.documentElement.scrollHeight],
              diagram: [diagram.left, diagram.right], panel: [box.left, box.right]};
    }""")
    assert size["page"][0] <= 1280 and size["page"][1] <= 800, size
    assert size["panel"][0] <= size["diagram"][0] and size["diagram"][1] <= size["panel"][1]


@pytest.mark.parametrize("width, stacked", [(1280, False), (900, False), (899, True), (800, True)])
def test_the_panels_stack_below_900_px(tabs, width, stacked):
    tab = tabs(width=width).open()
    tops = tab.eval("""() => ['data', 'network', 'output'].map(
        (name) => document.querySelector(`.panel.${name}`).getBoundingClientRect().top)""")
    assert (tops[0] < tops[1] < tops[2]) == stacked, tops
    assert (tops[0] == tops[1] == tops[2]) == (not stacked), tops
