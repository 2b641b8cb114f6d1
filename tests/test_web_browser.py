"""The web page in a real browser (headless Chromium via selenium): upload, read the ranking, open a submission, correct metadata; hostile text inert everywhere."""

from __future__ import annotations

from pathlib import Path

import pytest
from web_helpers import ARTEFACTS, chromium, needs_browser, sample_app, screenshot, serving

from detector import api

pytestmark = needs_browser

SAMPLE = Path(__file__).resolve().parent.parent / "corpus" / "sample"
DEMO = SAMPLE.parent / "demo" / "submission.txt"
PAYLOAD = '<script>window.__pwned=1;document.title="PWNED"</script><img src=x onerror="window.__pwned=2">'
CLEAN_TEXT = ("今年春天，社区组织了一次植树活动，居民们带着铁锹和水桶来到河边的空地。孩子们在老师的带领下认识了银杏、樟树和桂花，"
              "还学会了怎样给树苗浇水。中午大家在凉亭里分享了自带的饭菜，下午又把河岸上的垃圾清理干净。活动结束时，"
              "每户人家都领到了一块写着树名的小木牌，约定明年春天再来看看这些树长高了多少。\n") * 3
OTHER_TEXT = ("周末的图书馆里坐满了来借书的学生，管理员把新到的地方志和农业技术手册摆在门口的书架上。"
              "几位退休的老教师每月来这里给孩子们讲一次家乡的历史，从老街的石桥讲到后山的茶园。\n")
REWORDING = (("作为党员领导干部", "身为一名党员干部"), ("我始终牢记", "本人一直牢记"), ("但往往思想大于行动", "但很多时候想得多、做得少"),
             ("安排布置多、具体执行落实少", "部署安排多、具体落实少"), ("很多时候看似严丝合缝", "不少时候表面上严丝合缝"),
             ("我在工作中一贯倡导", "我在工作中一直提倡"), ("形势背景", "大背景"))
README_SCREENSHOT = Path(__file__).resolve().parent.parent / "docs" / "web-side-by-side.png"


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    base = tmp_path_factory.mktemp("webui")
    db, app = sample_app(base)
    with serving(app) as url, chromium(base / "profile") as driver:
        yield type("Site", (), {"url": url, "db": db, "driver": driver, "base": base})


def small_png(shot: Path, target: Path, width: int = 1000, height: int = 430) -> None:
    """The top of a screenshot, scaled to `width` and reduced to 64 colours: a small picture for the README."""
    from PIL import Image

    with Image.open(shot) as image:
        top = image.crop((0, 0, image.width, min(image.height, int(height * image.width / width))))
        top = top.resize((width, int(top.height * width / image.width)), Image.LANCZOS)
        top.convert("RGB").quantize(colors=64).save(target, optimize=True)


def wait(driver, css: str, timeout: float = 120):
    """The element, once the page shows it. A look that lands while the progress page moves on to the results
    ("aborted by navigation") is looked again, not a failure: only the timeout fails."""
    from selenium.common.exceptions import WebDriverException
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ready
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(driver, timeout, ignored_exceptions=(WebDriverException,)).until(
        ready.presence_of_element_located((By.CSS_SELECTOR, css)))


def find(driver, css: str):
    from selenium.webdriver.common.by import By

    return driver.find_elements(By.CSS_SELECTOR, css)


def upload(site, files: list, author: str | None = None, add_to_archive: bool = False) -> None:
    """Choose files on the scan page, give the first one an author, send, and wait for the ranking."""
    driver = site.driver
    driver.get(site.url + "/scan")
    find(driver, "#files")[0].send_keys("\n".join(str(f) for f in files))
    wait(driver, "input[name=author_0]")
    if author is not None:
        find(driver, "input[name=author_0]")[0].send_keys(author)
    if add_to_archive:
        find(driver, "input[name=add_to_archive]")[0].click()
    find(driver, "#scan-button")[0].click()
    wait(driver, "table.ranking tbody tr")


def reworded_paragraph() -> str:
    """The 担当作为 paragraph of seed 003, lightly reworded, between two paragraphs of unrelated text."""
    text = (SAMPLE / "003_42e09aa36b9c46a6.txt").read_text(encoding="utf-8")
    paragraph = next(line for line in text.splitlines() if "担当作为方面" in line)
    for old, new in REWORDING:
        assert old in paragraph
        paragraph = paragraph.replace(old, new)
    return OTHER_TEXT + paragraph + "\n" + OTHER_TEXT


def test_upload_read_the_ranking_open_a_submission(site, tmp_path):
    clean, reworded = tmp_path / "clean.txt", tmp_path / "reworded.txt"
    clean.write_text(CLEAN_TEXT, encoding="utf-8")
    reworded.write_text(reworded_paragraph(), encoding="utf-8")
    upload(site, [clean, DEMO, reworded], author="王五")
    driver = site.driver
    rows = find(driver, "table.ranking tbody tr")
    names = [r.find_elements("css selector", "td")[1].text.split()[0] for r in rows]
    assert names == ["submission.txt", "reworded.txt", "clean.txt"]
    top = float(rows[0].get_attribute("data-copy-ratio"))
    assert top > 0.9 and "%" in rows[0].text
    screenshot(driver, "web-ranking")
    ranking = driver.current_url
    rows[0].find_element("css selector", "td a").click()
    wait(driver, "#fulltext mark.hl")
    assert find(driver, "nav.site-nav") and "submission.txt" in driver.title
    cards = find(driver, ".source-card")
    assert cards and find(driver, ".source-card mark.src-match")
    for card in cards:  # every marked run of a source passage stands in the submission's passage, in order
        n = card.get_attribute("data-passage")
        passage = "".join(m.text for m in find(driver, f'#fulltext mark[data-passage="{n}"]'))
        at = 0
        for mark in card.find_elements("css selector", "mark.src-match"):
            at = passage.index(mark.text, at) + len(mark.text)
    screenshot(driver, "web-submission")
    driver.get(ranking)
    find(driver, "table.ranking tbody tr")[1].find_element("css selector", "td a").click()
    wait(driver, "#fulltext mark.hl")
    marked = "".join(m.text for m in find(driver, ".source-card mark.src-match"))
    source = "".join(c.find_element("css selector", ".src-text").text for c in find(driver, ".source-card"))
    assert 0 < len(marked) < len(source)  # reworded: only the characters that match are marked
    driver.execute_script("document.body.style.paddingBottom = '1400px';"  # room to bring the section to the top
                          "document.getElementById('compare').scrollIntoView()")
    shot = screenshot(driver, "web-side-by-side")
    README_SCREENSHOT.parent.mkdir(exist_ok=True)
    if not README_SCREENSHOT.exists():  # the README's picture: made once, then kept (delete it to make it again)
        small_png(shot, README_SCREENSHOT)


def test_correct_a_metadata_field_in_the_archive(site):
    driver = site.driver
    with api.open_corpus(site.db) as corpus:
        doc_id, path, meta = api.list_documents(corpus)[1]
    driver.get(site.url + "/archive?author=" + meta.author)
    form = wait(driver, f"#doc-{doc_id} form.meta-form")
    box = form.find_element("css selector", "input[name=author]")
    box.clear()
    box.send_keys("更正后的作者")
    form.find_element("css selector", "button[type=submit]").click()
    notice = wait(driver, "#notice")
    assert "更正后的作者" in notice.text
    with api.open_corpus(site.db) as corpus:
        stored = dict((i, m) for i, _, m in api.list_documents(corpus))[doc_id]
    assert stored.author == "更正后的作者" and "author" not in stored.inferred and stored.unit == meta.unit
    driver.get(site.url + "/archive?author=" + "更正后")
    assert [r.get_attribute("data-doc") for r in find(driver, "table.archive tbody tr")] == [str(doc_id)]
    screenshot(driver, "web-archive")


def test_hostile_names_and_text_stay_inert_on_every_page(site, tmp_path):
    hostile = tmp_path / f"x{PAYLOAD.replace('/', '')}.txt"
    hostile.write_text(DEMO.read_text(encoding="utf-8")[:2500] + PAYLOAD, encoding="utf-8")
    upload(site, [hostile], author=PAYLOAD, add_to_archive=True)
    driver = site.driver
    scan_page = driver.current_url
    submission = find(driver, "table.ranking tbody tr td a")[0].get_attribute("href")
    pages = [scan_page, submission, site.url + "/history", site.url + "/archive", site.url + "/archive?q=%3Cscript",
             site.url + "/scan", site.url + "/compare"]
    for page in pages:
        driver.get(page)
        wait(driver, "nav.site-nav")
        assert driver.execute_script("return window.__pwned === undefined"), page
        assert driver.title != "PWNED" and "查重" in driver.title, page  # the name may show in the title, as text
        assert not find(driver, "img[src=x]") and not find(driver, "main script, #fulltext script, table script"), page
    driver.get(submission)
    assert PAYLOAD in find(driver, "#fulltext")[0].text
    driver.get(site.url + "/archive?q=%3Cscript")
    assert "<script>" in find(driver, "table.archive")[0].text  # the name is shown as text


def test_compare_two_files_in_the_browser(site):
    driver = site.driver
    driver.get(site.url + "/compare")
    find(driver, "input[name=submission]")[0].send_keys(str(DEMO))
    find(driver, "input[name=source]")[0].send_keys(str(SAMPLE / "003_42e09aa36b9c46a6.txt"))
    find(driver, "#compare-form button")[0].click()
    wait(driver, "#fulltext")
    assert len({m.get_attribute("data-passage") for m in find(driver, "#fulltext mark.k-copied")}) == 3
    assert find(driver, ".source-card mark.src-match")


def test_recheck_a_past_scan_from_the_history(site):
    driver = site.driver
    driver.get(site.url + "/history")
    first = find(driver, "table.history tbody tr")[-1]
    old = first.get_attribute("data-scan")
    first.find_element("css selector", "button").click()
    wait(driver, "table.ranking tbody tr")
    assert f"re-check of scan {old}" in find(driver, "header")[0].text
    driver.get(site.url + "/history")
    assert find(driver, "table.history tbody tr")[0].get_attribute("data-scan") != old


def test_remove_a_document_from_the_archive(site):
    driver = site.driver
    with api.open_corpus(site.db) as corpus:
        doc_id, path, _ = api.list_documents(corpus)[-1]
    driver.get(site.url + "/archive")
    wait(driver, f"#doc-{doc_id} button.danger").click()
    driver.switch_to.alert.accept()
    assert str(doc_id) in wait(driver, "#notice").text and not find(driver, f"#doc-{doc_id}")
    with api.open_corpus(site.db) as corpus:
        assert doc_id not in [i for i, _, _ in api.list_documents(corpus)]


def test_screenshots_are_kept_as_artefacts():
    assert (ARTEFACTS / "web-ranking.png").exists() and (ARTEFACTS / "web-submission.png").exists()
