"""What the person deciding on the evidence reads in a batch's report pages: every kind explained in Chinese, and
two submissions that match each other shown with both authors and the warning that the comparison cannot tell who
copied whom."""

import csv
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from detector.cli import cli
from detector.labels import KINDS
from planting import SAMPLE

ORIGINAL = SAMPLE / "003_42e09aa36b9c46a6.txt"
WHO_COPIED_IS_OPEN = "比对无法判断谁抄了谁"
PARAGRAPH_TAKEN = next(p for p in ORIGINAL.read_text(encoding="utf-8").split("\n") if p.startswith("（二）理想信念不够坚定"))
NOT_COPYING = {"template": "不能据此认定抄自该篇", "formula": "不是抄袭", "quotation": "不是抄袭", "self_reuse": "不算抄袭他人"}


@pytest.fixture(scope="module")
def report_folder(tmp_path_factory) -> Path:
    """李四 wrote a report, 周七 handed in the same with two words changed, 吴九 took one paragraph of it into his own;
    the archive holds one unrelated report."""
    root = tmp_path_factory.mktemp("reviewer")
    batch = root / "2024"
    batch.mkdir()
    text = ORIGINAL.read_text(encoding="utf-8")
    (batch / "a.txt").write_text(text, encoding="utf-8")
    (batch / "b.txt").write_text(text.replace("安全生产", "防汛救灾").replace("理论学习", "学习贯彻"), encoding="utf-8")
    (batch / "c.txt").write_text(PARAGRAPH_TAKEN + "\n" + (SAMPLE / "002_36651b71203e1f41.txt").read_text(encoding="utf-8")[:600],
                                 encoding="utf-8")
    (batch / "manifest.csv").write_text("path,author,unit,year\na.txt,李四,某县交通局,2024\nb.txt,周七,某区住建局,2024\n"
                                        "c.txt,吴九,某社区,2024\n", encoding="utf-8")
    db, out = root / "corpus.db", root / "report"
    runner = CliRunner()
    added = runner.invoke(cli, ["add", str(SAMPLE / "000_5a8c092b610fea23.txt"), "--db", str(db)])
    assert added.exit_code == 0, added.output
    scanned = runner.invoke(cli, ["scan", str(batch), "--db", str(db), "--manifest", str(batch / "manifest.csv"),
                                  "--out", f"{out}/"])
    assert scanned.exit_code == 0, scanned.output
    assert f"reports written to {out}/index.html" in scanned.stderr, scanned.stderr  # not report//index.html
    return out


def pages(folder: Path) -> dict:
    return {p.name: p.read_text(encoding="utf-8") for p in sorted(folder.glob("*.html"))}


def visible(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", re.sub(r"<style.*?</style>", "", html, flags=re.S)))


def test_every_page_explains_each_kind_in_chinese(report_folder):
    for name, html in pages(report_folder).items():
        text = visible(html)
        for kind in KINDS:
            meaning = getattr(kind, "meaning_zh", "")
            assert meaning and meaning in text, (name, kind.kind)
            assert NOT_COPYING.get(kind.kind, "") in meaning, kind.kind


def test_a_match_between_two_submissions_names_both_authors_and_says_who_copied_is_open(report_folder):
    found = pages(report_folder)
    for page, other in (("s001.html", "周七，某区住建局，2024"), ("s002.html", "李四，某县交通局，2024")):
        text = visible(found[page])
        assert "本批" in text and other in text, page
        assert WHO_COPIED_IS_OPEN in text, page
    assert WHO_COPIED_IS_OPEN in visible(found["index.html"])


def test_a_cluster_says_how_much_of_the_shared_text_each_submission_holds(report_folder):
    """吴九 shares one paragraph with the copy ring: the cluster's longest wording (the whole copy) is not his."""
    index = visible(pages(report_folder)["index.html"])
    held = {name: int(chars) for name, chars in re.findall(r"([abc]\.txt) (\d+) 字", index)}
    assert set(held) == {"a.txt", "b.txt", "c.txt"}, index
    assert held["c.txt"] <= len(PARAGRAPH_TAKEN) + 10 < held["a.txt"], held


def test_the_spreadsheet_names_who_wrote_each_top_source(report_folder):
    with open(report_folder / "results.csv", encoding="utf-8-sig", newline="") as f:
        rows = {row["文件"]: row for row in csv.DictReader(f)}
    assert "（周七，某区住建局，2024）" in rows["a.txt"]["主要来源"], rows["a.txt"]
    assert "（李四，某县交通局，2024）" in rows["b.txt"]["主要来源"], rows["b.txt"]


def test_the_passages_spreadsheet_names_the_submissions_author_and_its_year_columns_plainly(report_folder):
    with open(report_folder / "passages.csv", encoding="utf-8-sig", newline="") as f:
        rows = list(csv.DictReader(f))
    assert {r["文件"]: r["作者"] for r in rows} == {"a.txt": "李四", "b.txt": "周七", "c.txt": "吴九"}
    assert "年度" not in rows[0] and "本人旧稿年度" in rows[0] and "来源年度" in rows[0]


def test_a_stored_report_of_the_same_year_is_marked_and_an_older_one_is_not(tmp_path):
    """The office files this year's reports as they come and scans each new one: the first filed reads as the source
    of a later one that may be its original. A source of the submission's year (or later) is marked 同年, with the note."""
    text = ORIGINAL.read_text(encoding="utf-8")
    first, second, older = tmp_path / "李四.txt", tmp_path / "周七.txt", tmp_path / "旧稿.txt"
    first.write_text(text, encoding="utf-8")
    second.write_text(text.replace("安全生产", "防汛救灾"), encoding="utf-8")
    older.write_text((SAMPLE / "004_53bd226f14dc173a.txt").read_text(encoding="utf-8"), encoding="utf-8")
    db, runner = tmp_path / "corpus.db", CliRunner()
    for path, author, year in ((first, "李四", "2024"), (older, "干部丁", "2021")):
        assert runner.invoke(cli, ["add", str(path), "--db", str(db), "--author", author, "--year", year]).exit_code == 0
    copy = tmp_path / "copy.txt"
    copy.write_text(text[:900] + (SAMPLE / "004_53bd226f14dc173a.txt").read_text(encoding="utf-8")[:900], encoding="utf-8")
    for submission, out in ((second, tmp_path / "same"), (copy, tmp_path / "mixed")):
        scanned = runner.invoke(cli, ["scan", str(submission), "--db", str(db), "--author", "周七", "--year", "2024",
                                      "--out", str(out)])
        assert scanned.exit_code == 0, scanned.output
    page = visible((tmp_path / "same" / "s001.html").read_text(encoding="utf-8"))
    assert "李四.txt 同年 （李四，2024）" in page and WHO_COPIED_IS_OPEN in page, page
    mixed = visible((tmp_path / "mixed" / "s001.html").read_text(encoding="utf-8"))
    assert "李四.txt 同年" in mixed and "旧稿.txt （干部丁，2021）" in mixed and "旧稿.txt 同年" not in mixed, mixed


def test_a_copied_passage_whose_source_carries_the_same_template_site_mark_says_both_may_come_from_that_site(tmp_path):
    template_report = SAMPLE / "002_36651b71203e1f41.txt"
    marked = next(p for p in template_report.read_text(encoding="utf-8").split("\n") if "稿子铺整理" in p)
    submission = tmp_path / "赵十.txt"
    submission.write_text("一、存在的问题\n我在分管的教育工作中，对校园安全隐患排查只看台账，去年两所学校围墙加固拖到汛期才完成。\n"
                          + marked + "\n二、整改措施\n每月到学校实地检查一次。\n", encoding="utf-8")
    db, out, runner = tmp_path / "corpus.db", tmp_path / "report", CliRunner()
    assert runner.invoke(cli, ["add", str(template_report), "--db", str(db), "--author", "干部乙", "--year", "2023"]).exit_code == 0
    scanned = runner.invoke(cli, ["scan", str(submission), "--db", str(db), "--author", "赵十", "--year", "2024", "--out", str(out)])
    assert scanned.exit_code == 0, scanned.output
    page = visible((out / "s001.html").read_text(encoding="utf-8"))
    assert "复制" in page and "两份材料在此都有模板网站痕迹“稿子铺整理”" in page, page[-3000:]


def test_a_copied_passage_without_such_a_mark_has_no_such_note(report_folder):
    assert all("模板网站痕迹“" not in visible(html) for html in pages(report_folder).values())
