"""A researcher searches the library and reads the hit in context, in Debian's headless Chromium (Selenium, the
system driver; see test_browser.py).

The small two-perspective study (tests/support/corpus.py: identifiers redacted by the real detector, approved) is
made in a live server. The researcher types a phrase into the library's search box, gets the hit with the phrase
marked, opens it, and lands on the reading page at that turn: the URL's `#turn-N` is the turn the browser shows
as the target, in view, with the phrase in it and the names as tags. With ANONSCRIBE_README_SCREENSHOTS=1 the
reading page is the README's docs/screenshots/library-reading.png.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support import corpus
from tests.support.apps import LiveServer, make_settings, serve
from tests.web.test_browser import Walk, browser  # noqa: F401  (the fixture)

pytestmark = pytest.mark.slow


@pytest.fixture
def server(tmp_path: Path) -> Iterator[LiveServer]:
    settings = make_settings(tmp_path, f"sqlite:///{tmp_path / 'data' / 'anonscribe.db'}")
    with serve(settings, start_workers=False) as live:
        yield live


def test_search_a_phrase_and_open_the_turn(server: LiveServer, browser: Any) -> None:  # noqa: F811
    ids = corpus.build_study(server.runtime)
    rid = ids["police"]
    w = Walk(browser, server.url)
    w.sign_in(server.tokens["researcher"])
    w.go("/library")
    box = w.css("form.search-box input[name='q']")
    box.send_keys('"public protection unit"')
    w.css("form.search-box button[type='submit']").click()
    w.wait(lambda: w.path().startswith("/library/search?"), what="the search page")
    hits = w.all("#hits > li")
    assert len(hits) == 1, [h.text for h in hits]
    assert [m.text for m in hits[0].find_elements(w.By.CSS_SELECTOR, "mark")] == ["public protection unit"]
    assert "POL-01" in hits[0].text and "turn 3" in hits[0].text and "Officer 2" in hits[0].text
    w.shot("library-search")

    hits[0].find_element(w.By.CSS_SELECTOR, ".hit-meta a").click()
    w.wait(lambda: w.path() == f"/library/{rid}#turn-3", what="the reading page at the turn")
    turn = w.css("#turn-3")
    assert w.d.execute_script("return document.querySelector(':target') === arguments[0];", turn)
    # In view: the browser scrolled to it, and it is marked as the linked turn.
    top = w.d.execute_script("return arguments[0].getBoundingClientRect().top;", turn)
    assert 0 <= top < w.d.execute_script("return window.innerHeight;")
    assert w.d.execute_script("return getComputedStyle(arguments[0]).backgroundColor;", turn) != "rgba(0, 0, 0, 0)"
    assert "public protection unit" in turn.text and "Officer 2" in turn.text
    tags = [t.text for t in turn.find_elements(w.By.CSS_SELECTOR, ".redaction")]
    assert tags == ["[Date]", "[Person 1]"]
    page = w.css("main").text.lower()
    assert not [ident for ident in corpus.IDENTIFIERS if ident in page]
    # Every turn of the interview is on the page, in order, coloured by role.
    classes = [li.get_attribute("class") for li in w.all("ol.reading > li")]
    assert classes == ["turn role-interviewer", "turn role-officer", "turn role-officer", "turn role-interviewer",
                       "turn role-officer", "turn role-officer"]
    w.d.execute_script("window.scrollTo(0, 0);")
    w.shot("library-reading", readme=True)
