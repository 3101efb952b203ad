"""Driving the Playground in a real headless Chromium: the browser, a page that may not reach
anything but 127.0.0.1, and checks the page runs on itself (layout, pixels).

Needs Debian's ``chromium`` and the ``playwright`` Python package (its own browser downloads are
never used: Playwright drives /usr/bin/chromium). Tests skip with the reason when either is
missing. Set DEEPNUM_SCREENSHOTS to a folder to keep the screenshots the tests take.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
SHOTS = os.environ.get("DEEPNUM_SCREENSHOTS")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]

# What a failed wait reports: the counters, the banner, the button and the fields.
SHOWN = """() => ({epoch: document.getElementById('epoch').textContent,
  message: [document.getElementById('message').dataset.kind,
            document.getElementById('message').textContent],
  playing: document.getElementById('play').dataset.playing,
  learning_rate: document.getElementById('learning_rate').value,
  settings: window.playground.settings, generation: window.playground.generation})"""

needs_chromium = pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed "
                                    "(apt-get install -y chromium)")


class Tab:
    """One page of the Playground, with the errors it raised and what it tried to reach."""

    def __init__(self, context, base: str):
        self.base, self.context = base, context
        self.page = context.new_page()
        self.errors: list[str] = []
        self.outside: list[str] = []
        self.page.on("pageerror", lambda error: self.errors.append(str(error)))
        self.page.on("console", lambda m: m.type == "error" and self.errors.append(m.text))
        self.page.route("**/*", self._local_only)

    def _local_only(self, route):
        url = route.request.url
        if url.startswith(self.base) or url.startswith("data:") or url.startswith("blob:"):
            route.continue_()
        else:  # the page must work offline: nothing may leave 127.0.0.1
            self.outside.append(url)
            route.abort()

    def open(self, fragment: str = "") -> Tab:
        self.page.goto(f"{self.base}/#{fragment}")
        self.page.wait_for_selector("body[data-ready='1']")
        return self

    @property
    def session(self) -> str:
        return self.page.get_attribute("body", "data-session")

    def eval(self, script: str, arg=None):
        return self.page.evaluate(script, arg)

    def text(self, selector: str) -> str:
        return self.page.text_content(selector)

    def wait(self, condition: str, arg=None, timeout: float = 30_000):
        try:
            self.page.wait_for_function(condition, arg=arg, timeout=timeout)
        except Exception as error:  # say what the page showed, not only that time ran out
            raise AssertionError(f"waited {timeout / 1000:g} s for {condition}; the page "
                                 f"showed {self.eval(SHOWN)}; errors {self.errors}") from error

    def wait_ready(self):
        """Until every queued change has been answered (the server's state is on the page)."""
        self.page.wait_for_timeout(50)
        self.page.wait_for_load_state("networkidle")

    def screenshot(self, path: Path, name: str) -> Path:
        self.page.screenshot(path=str(path), full_page=True)
        if SHOTS:
            Path(SHOTS).mkdir(parents=True, exist_ok=True)
            shutil.copy(path, Path(SHOTS) / name)
        return path

    def check_clean(self):
        assert self.errors == [], self.errors
        assert self.outside == [], f"the page tried to reach the internet: {self.outside}"


# Everything a person reads or clicks: no two may overlap (unless one holds the other), none may
# stick out of the page or its panel, and no text may be smaller than 13 px.
LAYOUT_PROBLEMS = """() => {
  const shown = (e) => {
    const r = e.getBoundingClientRect();
    return r.width > 0 && r.height > 0 && !e.closest('[hidden]') &&
      getComputedStyle(e).visibility !== 'hidden';
  };
  const what = (e) => e.id ? `#${e.id}` : `${e.tagName.toLowerCase()}.${e.className || ''}` +
    `(${(e.textContent || e.title || '').trim().slice(0, 24)})`;
  const selector = 'button, select, input:not([type=file]), label, h1, h2, canvas, output, a, ' +
    'figcaption, .counter, .rate, .layer-controls, .feature-label, .note, .legend, .ticks span, ' +
    '.bias, .losses span, .column-title, .count span';
  const items = [...document.querySelectorAll(selector)].filter(shown);
  const problems = [];
  const boxes = items.map((e) => e.getBoundingClientRect());
  for (let i = 0; i < items.length; i++) {
    for (let j = i + 1; j < items.length; j++) {
      if (items[i].contains(items[j]) || items[j].contains(items[i])) continue;
      const a = boxes[i], b = boxes[j];
      const w = Math.min(a.right, b.right) - Math.max(a.left, b.left);
      const h = Math.min(a.bottom, b.bottom) - Math.max(a.top, b.top);
      if (w > 1 && h > 1) problems.push(`${what(items[i])} overlaps ${what(items[j])}`);
    }
  }
  const page = document.documentElement;
  if (page.scrollWidth > innerWidth + 1) problems.push(`the page is ${page.scrollWidth} px wide`);
  for (const panel of document.querySelectorAll('.panel')) {
    if (shown(panel) && panel.scrollWidth > panel.clientWidth + 1) {
      problems.push(`${panel.className} scrolls: ${panel.scrollWidth} > ${panel.clientWidth} px`);
    }
  }
  for (const e of items) {
    const size = parseFloat(getComputedStyle(e).fontSize);
    if (size < 13 && (e.textContent || '').trim()) problems.push(`${what(e)} is ${size} px`);
  }
  return problems;
}"""

# The distinct colours of a canvas (as "r,g,b"), sampled on a grid of step px.
CANVAS_COLOURS = """([id, step]) => {
  const c = document.getElementById(id);
  const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
  const seen = new Set();
  for (let y = 0; y < c.height; y += step) for (let x = 0; x < c.width; x += step) {
    const i = (y * c.width + x) * 4;
    seen.add(`${d[i]},${d[i + 1]},${d[i + 2]}`);
  }
  return [...seen];
}"""

PIXELS = "(id) => document.getElementById(id).toDataURL()"


def set_field(tab: Tab, selector: str, value: str):
    """Type ``value`` into a field and leave it, as a user does: one change event, on leaving.
    (A synthetic change event would be a second one: the browser still fires its own on blur.)"""
    tab.page.fill(selector, value)
    tab.page.press(selector, "Tab")
