"""End to end in a real browser: Debian's headless Chromium driven by Selenium through Debian's chromedriver, against
the real app under uvicorn with its in-process worker (Whisper tiny.en, no diarisation).

One walk through the study's life: the uploader signs in and uploads a synthesised interview through the form (JS
path: XHR with a progress bar) and watches the job finish; the reviewer accepts a span, adds one, hears a snippet and
approves; the researcher finds the transcript, downloads it as DOCX and the cohort as a ZIP (both parsed), and cannot
reach the raw transcript, the review page or the audio by URL. A screenshot of every page goes to
test-artifacts/browser/; with ANONSCRIBE_README_SCREENSHOTS=1 the README's set is rewritten in docs/screenshots/.

Nothing is downloaded: SE_OFFLINE stops Selenium Manager, and the driver is the system one.
"""

from __future__ import annotations

import io
import os
import re
import time
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.dates import interview_date
from tests.support.paths import ROOT

INTERVIEW_DATE = interview_date()

pytestmark = pytest.mark.slow

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run", "--window-size=1280,900",
         "--force-device-scale-factor=1", "--lang=en-GB")
ARTIFACTS = ROOT / "test-artifacts" / "browser"
README_SHOTS = ROOT / "docs" / "screenshots"
# A made-up interview: the names, the code and the place are invented; the force is a public body.
LINES = [
    ("A", "Thank you for agreeing to talk to me today. Could you tell me about your role?"),
    ("B", "I am a detective constable with West Midlands Police. I work with Sergeant Ruth Okafor in the "
          "public protection unit."),
    ("A", "How do victims usually first contact you?"),
    ("B", "Mostly by phone. Last March a victim rang us after the images were posted online."),
    ("A", "Thank you, that is really helpful."),
]
KNOWN_NAMES = "Ruth Okafor"
SECRETS = ("okafor", "p07")  # must never reach the researcher


@pytest.fixture
def db_url(tmp_path: Path) -> str:
    """One back-end is enough here (both are covered by tests/web/test_web.py): SQLite, as scripts/bootstrap runs it."""
    return f"sqlite:///{tmp_path / 'data' / 'anonscribe.db'}"


@pytest.fixture(scope="module")
def interview(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from harness import synth

    audio, _ = synth.dialogue(LINES)
    return synth.write_wav(tmp_path_factory.mktemp("browser-media") / "interview.wav", audio)


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[Any]:
    os.environ["SE_OFFLINE"] = "true"  # never let Selenium Manager fetch a driver or a browser
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    for binary in (CHROMIUM, CHROMEDRIVER):
        if not Path(binary).exists():
            pytest.fail(f"{binary} missing: scripts/test installs chromium and chromium-driver")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in FLAGS:
        options.add_argument(flag)
    downloads = tmp_path / "downloads"
    downloads.mkdir()
    options.add_experimental_option("prefs", {"download.default_directory": str(downloads),
                                              "download.prompt_for_download": False})
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.execute_cdp_cmd("Browser.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(downloads)})
    driver.downloads = downloads
    driver.set_page_load_timeout(30)
    try:
        yield driver
    finally:
        driver.quit()


class Walk:
    def __init__(self, driver: Any, url: str) -> None:
        from selenium.webdriver.common.by import By

        self.d, self.url, self.By = driver, url, By
        self.shots: list[str] = []
        ARTIFACTS.mkdir(parents=True, exist_ok=True)

    def go(self, path: str) -> None:
        self.d.get(self.url + path)

    def css(self, selector: str, timeout: float = 15) -> Any:
        # A click that submits a form returns before the next page exists; find_element alone races the navigation.
        return self.wait(lambda: self.d.find_element(self.By.CSS_SELECTOR, selector), timeout, what=selector)

    def all(self, selector: str, timeout: float = 15) -> list[Any]:
        """Every match once there is one (the page may still be arriving), or [] after `timeout`."""
        try:
            return self.wait(lambda: self.d.find_elements(self.By.CSS_SELECTOR, selector), timeout,  # type: ignore[no-any-return]
                             what=selector)
        except AssertionError:
            return []

    def wait(self, check: Callable[[], Any], timeout: float = 30, what: str = "") -> Any:
        deadline = time.time() + timeout
        while time.time() < deadline:
            try:
                found = check()
            except Exception:
                found = None
            if found:
                return found
            time.sleep(0.2)
        self.shot(f"timeout-{what or 'wait'}")
        raise AssertionError(f"timed out waiting for {what}; at {self.d.current_url}")

    def path(self) -> str:
        return self.d.current_url.removeprefix(self.url)

    def shot(self, name: str, readme: bool = False) -> None:
        path = ARTIFACTS / f"{name}.png"
        self.d.save_screenshot(str(path))
        print(f"screenshot: {path}")
        if readme and os.environ.get("ANONSCRIBE_README_SCREENSHOTS") == "1":
            README_SHOTS.mkdir(parents=True, exist_ok=True)
            _small_png(path, README_SHOTS / f"{name}.png")

    def sign_in(self, token: str) -> None:
        self.go("/signin")
        self.token_form(token)
        self.wait(lambda: "/signin" not in self.path(), what="sign-in")

    def token_form(self, token: str) -> None:
        """The API-token form, folded away under the password form (tokens are for scripts)."""
        self.css("#token-signin-toggle").click()
        self.css("#token").send_keys(token)
        self.css("#token-signin button[type='submit']").click()

    def password_form(self, name: str, password: str) -> None:
        self.css("#name").send_keys(name)
        self.css("#password").send_keys(password)
        self.css("#password-signin button[type='submit']").click()

    def sign_out(self) -> None:
        self.css("form.signout button").click()
        self.wait(lambda: "signed_out=true" in self.path(), what="sign-out")
        assert "You have signed out" in self.css("main").text

    def downloaded(self, suffix: str, timeout: float = 30) -> Path:
        def done() -> Path | None:
            files = [p for p in self.d.downloads.iterdir() if p.name.endswith(suffix)]
            return files[0] if files and not any(p.suffix == ".crdownload" for p in self.d.downloads.iterdir()) \
                else None
        return self.wait(done, timeout, what=f"download of *{suffix}")  # type: ignore[no-any-return]


def _small_png(src: Path, dst: Path) -> None:
    """README copies: a 256-colour palette keeps them a fraction of the size with no visible loss for UI pages."""
    try:
        from PIL import Image
    except ImportError:
        dst.write_bytes(src.read_bytes())
        return
    with Image.open(src) as img:
        img.convert("RGB").quantize(colors=256, method=Image.Quantize.MEDIANCUT).save(dst, optimize=True)


def test_upload_review_approve_and_research_in_a_browser(live_server: Any, browser: Any, interview: Path) -> None:
    import docx

    started = time.time()
    w = Walk(browser, live_server.url)
    tokens = live_server.tokens

    # ---- not signed in: every page sends you to sign in ---------------------------------------------------------
    w.go("/library")
    assert w.path() == "/signin?next=/library"
    w.shot("signin", readme=True)
    w.token_form("ast_not-a-real-token")
    assert "not accepted" in w.css("#signin-error").text

    # ---- uploader: the form, drag-and-drop, the progress bar, live status ---------------------------------------
    w.sign_in(tokens["uploader"])
    assert w.path() == "/upload"
    # Drop a file on the box: the drop handler puts it into the file input.
    dropped = w.d.execute_script("""
        const dt = new DataTransfer();
        dt.items.add(new File(["RIFF"], "dropped.wav", {type: "audio/wav"}));
        document.getElementById("dropzone").dispatchEvent(new DragEvent("drop", {dataTransfer: dt, bubbles: true}));
        return document.getElementById("file").files[0].name;""")
    assert dropped == "dropped.wav"
    w.css("#file").send_keys(str(interview))
    w.css("#participant_code").send_keys("P07")
    w.css("#cohort").send_keys("Police")
    w.d.execute_script(f"document.getElementById('interview_date').value = '{INTERVIEW_DATE}';")
    w.css("#num_speakers").send_keys("2")
    w.css("#known_names").send_keys(KNOWN_NAMES)
    # Remember the progress bar's highest value across the navigation that follows the upload.
    w.d.execute_script("""
        const bar = document.getElementById("upload-progress");
        new MutationObserver(() => sessionStorage.setItem("maxProgress", String(bar.value)))
            .observe(bar, {attributes: true, childList: true, characterData: true, subtree: true});""")
    w.d.execute_script("document.activeElement.blur(); window.scrollTo(0, 0);")
    w.shot("upload", readme=True)
    w.css("#upload-button").click()
    w.wait(lambda: w.path() == "/recordings?uploaded=1", what="upload")
    assert w.d.execute_script("return sessionStorage.getItem('maxProgress')") == "100"  # the XHR path ran
    row = w.css("#recording-rows tr[id^='rec-']")
    recording_id = row.get_attribute("id").removeprefix("rec-")
    # The rows update by themselves (poll.js); no reload from here on.
    w.wait(lambda: w.css(f"#rec-{recording_id}").get_attribute("data-state") in ("transcribing", "redacting",
                                                                                 "needs_review"),
           60, "the job to start")
    w.shot("recordings-running")
    w.wait(lambda: w.css(f"#rec-{recording_id}").get_attribute("data-state") == "needs_review", 90,
           "the transcript")
    assert "needs review" in w.css(f"#rec-{recording_id} .status").text
    w.shot("recordings", readme=True)
    w.sign_out()

    # ---- reviewer: decide, add, listen, relabel, approve ----------------------------------------------------------
    w.sign_in(tokens["reviewer"])
    w.go("/review")
    w.css(f"a[href='/review/{recording_id}']").click()
    w.wait(lambda: w.path() == f"/review/{recording_id}", what="review page")
    segments = w.all("ol.segments li")
    assert segments
    # A missed identifier, typed as it reads in the first segment: the unit (a small unit can single an officer
    # out), or whatever long word Whisper heard instead.
    heard = segments[0].find_element(w.By.CSS_SELECTOR, ".text").text
    unit = re.search(r"public protection unit", heard, re.IGNORECASE)
    word = unit.group(0) if unit else max(re.findall(r"[A-Za-z]{4,}", heard), key=len)
    w.css("#add-text").send_keys(word)
    w.css("#add-label").send_keys("Organisation")
    w.css("#add-span button[type='submit']").click()
    w.wait(lambda: "msg=added" in w.path(), what="span added")
    cards = w.all("li.span-card")
    assert cards, "no spans to review"
    first = cards[0]
    span_id = first.get_attribute("id").removeprefix("span-")
    # The snippet player: its URL answers with audio for this session.
    audio_src = first.find_element(w.By.CSS_SELECTOR, "audio").get_attribute("src")
    status = w.d.execute_async_script("""
        const done = arguments[arguments.length - 1];
        fetch(arguments[0]).then(r => r.arrayBuffer().then(b => done([r.status, r.headers.get("content-type"),
                                                                     b.byteLength])));""", audio_src)
    assert status[0] == 200 and status[1] == "audio/wav" and status[2] > 16_000
    first.find_element(w.By.CSS_SELECTOR, "button[value='accept']").click()
    w.wait(lambda: "msg=accepted" in w.path(), what="span accepted")
    assert "accepted" in w.css(f"#span-{span_id}").text
    w.go(f"/review/{recording_id}?msg=accepted")  # the same page, not scrolled to the span
    w.shot("review", readme=True)
    # One voice without diarisation: it stays the participant, offered as the police cohort's word for one.
    assert [o.text for o in w.css("#role-S1").find_elements(w.By.TAG_NAME, "option")] == ["Interviewer", "Officer",
                                                                                        "Other"]
    w.css("#role-S1").send_keys("Officer")
    w.css("#speakers button[type='submit']").click()
    w.wait(lambda: "msg=speakers" in w.path(), what="speakers saved")
    w.css("#approve-button").click()
    w.wait(lambda: w.path() == "/review?approved=true", what="approval")
    assert "Transcript approved" in w.css("main").text
    w.sign_out()

    # ---- researcher: the library, a DOCX, the cohort ZIP --------------------------------------------------------
    w.sign_in(tokens["researcher"])
    assert w.path() == "/library"
    w.css("#cohort-police").click()
    w.css(".filters button[type='submit']").click()
    w.wait(lambda: "cohort=police" in w.path(), what="filter")
    rows = w.all("#library tbody tr")
    assert len(rows) == 1 and recording_id in rows[0].get_attribute("innerHTML")
    assert "POL-01" in rows[0].text and INTERVIEW_DATE[:7] in rows[0].text and "P07" not in w.css("main").text
    w.shot("library", readme=True)
    rows[0].find_element(w.By.CSS_SELECTOR, "a[href$='format=docx']").click()
    docx_path = w.downloaded(".docx")
    assert re.fullmatch(r"POL-01_[0-9a-f]{8}\.docx", docx_path.name)
    document = docx.Document(str(docx_path))
    text = "\n".join(p.text for p in document.paragraphs)
    assert "Officer" in text and len(text) > 100
    assert document.core_properties.author == "" and "P07" not in document.core_properties.title
    w.css("#export-zip").click()
    zip_path = w.downloaded(".zip")
    assert zip_path.name == "anonscribe-police.zip"
    with zipfile.ZipFile(zip_path) as zf:
        names = zf.namelist()
        assert "manifest.csv" in names and any(n.endswith(".docx") for n in names)
        corpus = b" ".join(zf.read(n) for n in names)
        inner = [docx.Document(io.BytesIO(zf.read(n))) for n in names if n.endswith(".docx")]
    inner_text = " ".join(p.text for d in inner for p in d.paragraphs)
    everything = (text + inner_text + corpus.decode("latin-1") + " ".join(names)).lower()
    for secret in SECRETS:
        assert secret not in everything, secret

    # ---- researcher: nothing else, whatever URL they type ------------------------------------------------------
    for path in (f"/review/{recording_id}", f"/review/{recording_id}/spans/{span_id}/audio", "/recordings",
                 "/upload"):
        w.go(path)
        assert "Not for your role" in w.css("main").text, path
    w.shot("forbidden")
    for path in (f"/api/v1/recordings/{recording_id}/transcript", f"/api/v1/recordings/{recording_id}/review",
                 f"/api/v1/recordings/{recording_id}/review/spans/{span_id}/audio"):
        w.go(path)
        assert "missing or invalid API token" in w.d.page_source, path
    w.go("/library")
    w.sign_out()

    # ---- admin: users, retention, audit, withdrawal ---------------------------------------------------------------
    w.sign_in(tokens["admin"])
    w.go("/admin/retention")
    assert recording_id[:12] in w.css("#upcoming").text
    w.shot("admin-retention", readme=True)
    w.go("/admin/audit")
    w.css("#verify").click()
    w.wait(lambda: "Chain intact" in w.css("#verdict").text, what="chain verified")
    assert "library.download" in w.css("#audit").text and "okafor" not in w.d.page_source.lower()
    w.shot("admin-audit", readme=True)
    w.go("/admin/users")
    w.css("#name").send_keys("researcher-two")
    w.css("#new-role").send_keys("researcher")
    w.css("#new-access").send_keys("an API token")  # a script's account (people get a set-up link)
    w.css("section .grid button[type='submit']").click()
    new_token = w.wait(lambda: w.css("#new-token").get_attribute("value"), what="new token")
    assert new_token.startswith("ast_")
    w.go("/admin/users")
    assert "researcher-two" in w.css("#users").text and new_token not in w.d.page_source
    w.shot("admin-users", readme=True)
    w.go("/admin/withdrawal")
    w.css("#participant_code").send_keys("P07")
    w.css("#confirm").click()
    w.css("#withdraw-button").click()
    w.wait(lambda: w.css("#receipt-id").text.startswith("WR-"), what="withdrawal receipt")
    assert "p07" not in w.css("main").text.lower()
    w.shot("admin-withdrawal", readme=True)
    w.css("#receipt-pdf").click()
    assert w.downloaded(".pdf").read_bytes().startswith(b"%PDF")
    w.sign_out()
    w.sign_in(new_token)
    assert w.path() == "/library"
    assert "No approved transcripts" in w.css("#library").text  # withdrawn: gone from the library too
    print(f"browser walk took {time.time() - started:.1f}s")
