"""The HTML report rendered by headless Chromium: highlights on the right characters, hostile text inert, offline, a screenshot."""

import html.parser
import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from batch_planting import HOSTILE, scanned_batch
from click.testing import CliRunner

from detector.cli import cli

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
SCREENSHOT_COPY = Path("/tmp/chachong-screenshot.png")
needs_chromium = pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (apt-get install chromium fonts-noto-cjk)")


@pytest.fixture(scope="module")
def scanned(tmp_path_factory):
    return scanned_batch(tmp_path_factory.getbasetemp() / "batch")


def chromium(tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    profile = tmp_path / "chromium-profile"
    command = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
               "--disable-background-networking", "--disable-component-update", "--disable-sync",
               f"--user-data-dir={profile}", *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=180)


def rendered_dom(tmp_path: Path, page: Path) -> str:
    result = chromium(tmp_path, "--dump-dom", page.resolve().as_uri())
    assert result.returncode == 0 and "<html" in result.stdout, result.stderr[-2000:]
    return result.stdout


class FullText(html.parser.HTMLParser):
    """The text of the #fulltext element and every highlight in it: (passage, kind, data-start, data-end, offset, text)."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.depth = 0  # element depth inside #fulltext (0: outside)
        self.text = []
        self.open = []  # [attrs, offset at open, text parts] per open <mark>
        self.marks = []
        self.scripts = 0
        self.title = ""
        self._in_title = False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        self.scripts += tag == "script"
        self._in_title = tag == "title"
        if self.depth:
            self.depth += 1
            if tag == "mark":
                self.open.append((attrs, len("".join(self.text))))
        elif attrs.get("id") == "fulltext":
            self.depth = 1

    def handle_endtag(self, tag):
        self._in_title = False
        if not self.depth:
            return
        self.depth -= 1
        if tag == "mark":
            attrs, offset = self.open.pop()
            self.marks.append({**attrs, "offset": offset, "text": "".join(self.text)[offset:]})

    def handle_data(self, data):
        if self._in_title:
            self.title += data
        if self.depth:
            self.text.append(data)


def parse(dom: str) -> FullText:
    parser = FullText()
    parser.feed(dom)
    parser.close()
    return parser


def results(scanned) -> dict:
    return json.loads((scanned.out / "results.json").read_text(encoding="utf-8"))


@needs_chromium
@pytest.mark.parametrize("role", ["t1", "r1", "c1", "p2", "k01"])
def test_highlights_sit_on_the_right_characters(scanned, tmp_path, role):
    sub = scanned.by_role[role]
    original = (scanned.folder / scanned.names[role]).read_text(encoding="utf-8")
    page = parse(rendered_dom(tmp_path, scanned.out / sub.page))
    assert "".join(page.text) == original
    for mark in page.marks:
        start, end = int(mark["data-start"]), int(mark["data-end"])
        assert mark["offset"] == start and mark["text"] == original[start:end]
    report = results(scanned)["reports"][sub.position]
    assert len({m["data-passage"] for m in page.marks}) == len(report["passages"])
    for n, passage in enumerate(report["passages"], start=1):
        pieces = sorted((int(m["data-start"]), m["text"]) for m in page.marks if m["data-passage"] == str(n))
        start, end = passage["submission_span"]
        assert "".join(text for _, text in pieces) == passage["submission_text"] == original[start:end]
        assert {m["data-kind"] for m in page.marks if m["data-passage"] == str(n)} == {passage["kind"]}


@needs_chromium
def test_hostile_text_shows_as_text_and_runs_nothing(scanned, tmp_path):
    page = parse(rendered_dom(tmp_path, scanned.out / scanned.by_role["k01"].page))
    assert page.scripts == 0
    assert "PWNED" not in page.title
    assert HOSTILE in "".join(page.text)


@needs_chromium
def test_a_hostile_file_name_is_shown_as_text(scanned, tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    name = 'x<img src=q onerror="document.title=1">&amp;.txt'
    (folder / name).write_text(scanned.texts["p1"], encoding="utf-8")
    (folder / "b.txt").write_text(scanned.texts["p2"], encoding="utf-8")
    assert CliRunner().invoke(cli, ["scan", str(folder), "--db", str(scanned.db), "--out", str(tmp_path / "out")]).exit_code == 0
    dom = rendered_dom(tmp_path, tmp_path / "out" / "index.html")
    assert "<img" not in dom and "&lt;img src=q" in dom
    assert parse(dom).title.startswith("查重")


@needs_chromium
def test_screenshot_of_a_submission_page_and_the_index(scanned, tmp_path):
    shots = {}
    for label, page in (("submission", scanned.by_role["t1"].page), ("index", "index.html")):
        shot = tmp_path / f"{label}.png"
        result = chromium(tmp_path, f"--screenshot={shot}", "--window-size=1280,2000", "--hide-scrollbars",
                          (scanned.out / page).resolve().as_uri())
        assert result.returncode == 0, result.stderr[-2000:]
        assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 20_000
        shots[label] = shot
    shutil.copyfile(shots["submission"], SCREENSHOT_COPY)
    shutil.copyfile(shots["index"], SCREENSHOT_COPY.with_name("chachong-index.png"))


def test_the_index_ranks_links_and_lists_the_unreadable_file(scanned):
    index = (scanned.out / "index.html").read_text(encoding="utf-8")
    rows = re.findall(r'<tr (?:class="failed" )?data-position="(\d+)"', index)
    assert [int(p) for p in rows] == [s.position for s in scanned.view.ranked]
    for sub in scanned.view.submissions:
        if sub.error is None:
            assert f'href="{sub.page}"' in index and (scanned.out / sub.page).exists()
    assert "could not be read: is not a readable .docx" in index
    assert "无法读取：不是可读的 .docx：压缩容器已损坏或不完整" in index  # the reason in Chinese too, first
    assert index.count('class="cluster"') == 4


def test_the_report_folder_works_offline(scanned):
    for page in scanned.out.glob("*.html"):
        text = page.read_text(encoding="utf-8")
        assert not re.search(r"<link|<script|@import|url\(|src=\"|(href|src)=\"?(https?:)?//", text), page.name
        assert "Noto Sans CJK SC" in text and "Microsoft YaHei" in text and "@media print" in text


def test_html_source_shares_are_the_json_shares(scanned):
    reports = results(scanned)["reports"]
    checked = 0
    for sub in scanned.view.submissions:
        if sub.error is not None:
            continue
        page = (scanned.out / sub.page).read_text(encoding="utf-8")
        shown = [float(v) for v in re.findall(r'data-share="([0-9.]+)"', page)]
        assert shown == [s["share"] for s in reports[sub.position]["sources"]]
        checked += len(shown)
    assert checked > 10


def test_the_ranking_shows_each_measure_from_the_report(scanned):
    index = (scanned.out / "index.html").read_text(encoding="utf-8")
    for key in ("copy_ratio", "copy_ratio_excluding_self", "other_authors_ratio", "self_reuse_ratio"):
        assert f'data-measure="{key}"' in index
    measures = [float(v) for v in re.findall(r'data-rank-measure="([0-9.]+)"', index)]
    assert measures == sorted(measures, reverse=True) and measures[0] > 0.3


def test_hostile_text_stays_text_on_the_web_pages(scanned, tmp_path):
    """The same batch served by `chachong serve` (detector/web): every page escapes it; the only script is the page's own file."""
    from detector.web.app import create_app

    client = create_app(scanned.db, upload_root=tmp_path / "uploads").test_client()
    hostile = scanned.by_role["k01"]
    pages = [f"/scans/{scanned.scan_id}/", f"/scans/{scanned.scan_id}/{hostile.page}", "/history", "/archive", "/scan", "/compare"]
    for path in pages:
        answer = client.get(path)
        html = answer.data.decode("utf-8")
        assert answer.status_code == 200, path
        assert re.findall(r"<script[^>]*>", html) in ([], ['<script src="/static/app.js">']), path
        assert "<b>不加粗</b>" not in html and "PWNED" not in parse(html).title, path
    page = parse(client.get(f"/scans/{scanned.scan_id}/{hostile.page}").data.decode("utf-8"))
    assert HOSTILE in "".join(page.text) and page.scripts == 0
