"""Running the web application in a test: a waitress server on a free loopback port, and headless Chromium driven by selenium."""

from __future__ import annotations

import contextlib
import os
import shutil
import threading
from pathlib import Path

import pytest

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver")
ARTEFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"


SAMPLE = Path(__file__).resolve().parent.parent / "corpus" / "sample"


def sample_app(base: Path):
    """(database, app) of a web application over a corpus of the five sample reports (with the sample manifest),
    an archive folder and an upload root, all under `base`."""
    from detector import api
    from detector.web.app import create_app

    db = base / "corpus.db"
    with api.open_corpus(db, create=True) as corpus:
        api.add_paths(corpus, [], manifest=SAMPLE / "manifest.csv")
    return db, create_app(db, archive=base / "archive", upload_root=base / "uploads")


@contextlib.contextmanager
def serving(app):
    """Serve `app` on 127.0.0.1 (a free port) in a thread; yields the base URL."""
    from waitress.server import create_server

    server = create_server(app, host="127.0.0.1", port=0, threads=4, ident="chachong-test")
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.effective_port}"
    finally:
        server.close()
        app.extensions["chachong.jobs"].shutdown()
        thread.join(timeout=5)


def browser_missing_reason() -> str | None:
    try:
        import selenium  # noqa: F401
    except ImportError:
        return "selenium is not installed (pip install -e '.[test]')"
    if CHROMIUM is None or CHROMEDRIVER is None:
        return "chromium or chromedriver is not installed (apt-get install chromium chromium-driver fonts-noto-cjk)"
    return None


@contextlib.contextmanager
def chromium(profile: Path):
    """Headless Chromium with a new empty profile, no network of its own (no updates, sync or background calls)."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    os.environ.setdefault("SE_OFFLINE", "true")  # Selenium Manager (not needed: both paths are given) never goes online
    os.environ.setdefault("SE_AVOID_STATS", "true")

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--disable-dev-shm-usage", f"--user-data-dir={profile}", "--window-size=1280,1400", "--lang=zh-CN"):
        options.add_argument(flag)
    driver = webdriver.Chrome(options=options, service=Service(executable_path=CHROMEDRIVER))
    driver.set_page_load_timeout(120)
    try:
        yield driver
    finally:
        driver.quit()


def screenshot(driver, name: str) -> Path:
    """Keep a screenshot in test-artifacts/ (gitignored) and check it is a real picture."""
    ARTEFACTS.mkdir(exist_ok=True)
    path = ARTEFACTS / f"{name}.png"
    driver.save_screenshot(str(path))
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and path.stat().st_size > 10_000
    return path


needs_browser = pytest.mark.skipif(browser_missing_reason() is not None, reason=str(browser_missing_reason()))
