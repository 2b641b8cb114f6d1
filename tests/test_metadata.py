"""Document metadata: inferred from text and file name (and marked so), given by manifest or options, edited with `chachong meta`."""

import json

import pytest
from click.testing import CliRunner
from reuse_planting import SEEDS, last_year_and_this_year, meta, seed_text

from detector import api
from detector.cli import ExitCode, cli
from detector.metadata import complete, edited, infer, same_owner
from detector.model import DocumentMeta
from planting import SAMPLE


def test_a_team_title_gives_year_meeting_and_team():
    guessed = infer("局党组2022年民主生活会对照检查材料\n根据市委统一部署……", "x.txt")
    assert (guessed.year, guessed.meeting, guessed.team) == (2022, "民主生活会", True)
    assert set(guessed.inferred) == {"year", "meeting", "team"}


def test_year_and_unit_from_the_file_name_and_personal_reports_from_the_text():
    guessed = infer("正文没有年份。", "归档/XX县财政局领导班子2023年度组织生活会对照检查材料.docx")
    assert (guessed.unit, guessed.year, guessed.meeting, guessed.team) == ("XX县财政局", 2023, "组织生活会", True)
    personal = infer(seed_text(3), "003.txt")  # 按照2023年度主题教育专题民主生活会安排，本人……
    assert (personal.year, personal.meeting, personal.team, personal.author) == (2023, "民主生活会", False, None)
    assert infer("张三同志2024年度组织生活会个人对照检查材料\n我……", "").author == "张三"


def test_given_values_win_and_only_guesses_are_marked():
    filled = complete(DocumentMeta(author="张三", year=2021), "局党组2022年民主生活会对照检查材料", "")
    assert (filled.author, filled.year, filled.meeting) == ("张三", 2021, "民主生活会")
    assert "year" not in filled.inferred and "meeting" in filled.inferred
    fixed = edited(filled, {"meeting": "专题组织生活会", "team": False})
    assert fixed.meeting == "组织生活会" and "meeting" not in fixed.inferred and "team" not in fixed.inferred


def test_added_documents_get_inferred_metadata_and_manifest_values(tmp_path):
    with api.open_corpus(tmp_path / "c.db", create=True) as corpus:
        api.add_paths(corpus, SEEDS[:2], manifest=SAMPLE / "manifest.csv")
        api.add_paths(corpus, SEEDS[3:4])
        rows = {path.rsplit("/", 1)[-1][:3]: m for _, path, m in api.list_documents(corpus)}
    assert (rows["000"].author, rows["000"].year, rows["000"].meeting) == ("局长甲", 2023, "民主生活会")
    assert "year" not in rows["000"].inferred and rows["001"].team is True and "team" in rows["001"].inferred
    assert (rows["003"].year, rows["003"].author) == (2023, None) and "year" in rows["003"].inferred


def test_scanning_a_stored_file_uses_its_stored_metadata(tmp_path):
    old, new, _ = last_year_and_this_year()
    sub = tmp_path / "2024.txt"
    sub.write_text(new, encoding="utf-8")
    with api.open_corpus(tmp_path / "c.db", create=True) as corpus:
        api.add_text(corpus, old, "2022.txt", meta("干部丙", "某镇", 2022))
        api.add_paths(corpus, [sub], meta=meta("干部丙", "某镇", 2024))
        report = api.scan_paths(corpus, [sub])[0]
    assert report.submission.meta.author == "干部丙"
    assert {p.kind for p in report.passages if p.kind != "formula"} == {"self_reuse"}


@pytest.mark.parametrize("opening", ["各位同志：", "全体同志：", "领导同志，", "王局长同志：", "同志们："])
def test_a_salutation_is_not_an_author(opening):
    assert infer(f"{opening}\n按照本次民主生活会的要求，本人认真查摆问题，现报告如下。", "发言.txt").author is None


def test_two_reports_opening_with_the_same_salutation_are_not_one_authors(tmp_path):
    """各位同志： heads many reports: taken for an author named 各位, a colleague's copy read as 本人旧稿 (own reuse)."""
    old, new, _ = last_year_and_this_year()
    with api.open_corpus(tmp_path / "c.db", create=True) as corpus:
        api.add_text(corpus, "各位同志：\n" + old, "甲2022.txt")
        report = api.scan_text(corpus, "各位同志：\n" + new, "乙2024.txt")
    assert {p.kind for p in report.passages if p.kind != "formula"} == {"copied"}


@pytest.mark.parametrize("title", ["县委常委班子", "市委常委班子", "区政府党组", "镇党委领导班子"])
def test_a_team_title_naming_only_a_level_of_government_names_no_unit(title):
    """Every county's standing committee writes 县委常委班子…: 县委常委 is no one unit."""
    assert infer(f"{title}2023年度民主生活会对照检查材料\n我们认真查摆问题。", "x.txt").unit is None


def test_two_counties_team_reports_are_not_one_units(tmp_path):
    old, new, _ = last_year_and_this_year()
    title = "县委常委班子2023年度民主生活会对照检查材料\n"
    with api.open_corpus(tmp_path / "c.db", create=True) as corpus:
        api.add_text(corpus, title + old.replace("我", "我们"), "甲县.txt")
        report = api.scan_text(corpus, title + new.replace("我", "我们"), "乙县.txt")
    assert report.submission.meta.team and report.submission.meta.unit is None
    assert {p.kind for p in report.passages if p.kind != "formula"} == {"copied"}


PERSONAL_TITLES = ["市某局党组书记、局长张三2023年度专题民主生活会个人对照检查材料", "某镇党委书记王五2023年度民主生活会对照检查材料",
                   "市某局党组成员、副局长赵六2023年度民主生活会检视剖析材料", "市某局领导班子成员孙七2023年度民主生活会个人发言提纲"]


@pytest.mark.parametrize("title", PERSONAL_TITLES)
def test_a_title_naming_a_members_post_in_a_leading_body_is_a_personal_report(title):
    """党组书记张三…个人对照检查材料 is one member's report: no team report of 市某局, whose every member would be one owner."""
    guessed = infer(f"{title}\n按照要求，我们班子成员认真查摆问题，党组要求我们带头。", "x.txt")
    assert guessed.team is False and guessed.unit is None


@pytest.mark.parametrize("title", ["第一党支部委员会2023年度组织生活会对照检查材料", "某局机关党总支委员会2023年度组织生活会检视剖析材料"])
def test_a_branch_committees_title_is_still_a_team_report(title):
    """党支部委员会 is the committee (a team), not a member's post (党支部委员)."""
    assert infer(f"{title}\n我们认真查摆问题。", "x.txt").team is True


def test_two_members_of_one_leading_body_copying_each_other_have_copied(tmp_path):
    """The 党组书记's and a 党组成员's personal reports of one bureau: a copy between them is no 本人旧稿 (own reuse)."""
    old, new, _ = last_year_and_this_year()
    with api.open_corpus(tmp_path / "c.db", create=True) as corpus:
        api.add_text(corpus, PERSONAL_TITLES[0] + "\n" + old, "2022/张三.txt")
        report = api.scan_text(corpus, PERSONAL_TITLES[2] + "\n" + new, "2024/赵六.txt", meta(author="赵六", unit="市某局", year=2024, team=None))
    assert {p.kind for p in report.passages if p.kind != "formula"} == {"copied"}


def test_a_named_unit_is_still_a_unit():
    assert infer("某某县人民政府党组2023年民主生活会对照检查材料\n我们", "x.txt").unit == "某某县人民政府"
    assert infer("市某局领导班子2023年民主生活会对照检查材料\n我们", "x.txt").unit == "市某局"


def test_a_title_still_names_its_author():
    assert infer("张三同志2023年度民主生活会对照检查材料\n按照要求……", "x.txt").author == "张三"
    assert infer("按照要求……", "李四同志个人对照检查材料.docx").author == "李四"
    assert infer("按照要求……", "王五同志.docx").author == "王五"


@pytest.mark.parametrize("given, kind", [(("王五", None, 2025), "copied"), (("干部丙", "某镇", 2025), "self_reuse")])
def test_an_archived_report_handed_in_unchanged_under_another_name_or_year_is_its_source(tmp_path, given, kind):
    """The same bytes as a stored report, given another author or year: not that report scanned again, but a copy of
    it (a colleague's, or the author's own last year's): all of it is reused, never 0%."""
    old, _, _ = last_year_and_this_year()
    with api.open_corpus(tmp_path / "c.db", create=True) as corpus:
        api.add_text(corpus, old, "2022.txt", meta("干部丙", "某镇", 2022))
        again = api.scan_text(corpus, old, "2022.txt")  # the stored report itself: not its own source
        handed_in = api.scan_text(corpus, old, "2025/交来的.txt", meta(*given))
    assert again.metrics["copy_ratio"] == 0 and again.submission.meta.author == "干部丙"
    assert {p.kind for p in handed_in.passages if p.kind != "formula"} == {kind}
    assert handed_in.metrics["copy_ratio"] > 0.95 and handed_in.submission.meta.author == given[0]


def test_a_stored_report_scanned_again_with_other_metadata_is_still_itself(tmp_path):
    """Added without metadata (its year only inferred, 2023 from 2023年度), then scanned as this year's with --year
    2024; or scanned again from the path it was added from: the same report, never a 100% copy of itself."""
    old, _, _ = last_year_and_this_year()
    own = tmp_path / "2024" / "赵四.txt"
    own.parent.mkdir()
    own.write_text("2023年度民主生活会对照检查材料\n" + old, encoding="utf-8")
    with api.open_corpus(tmp_path / "c.db", create=True) as corpus:
        api.add_paths(corpus, [own])
        inferred_year = api.scan_batch(corpus, [own], meta=meta(None, None, 2024)).reports[0]
        api.update_metadata(corpus, str(own), author="赵四", year=2023)
        same_path = api.scan_batch(corpus, [own], meta=meta("钱五", None, 2024)).reports[0]
    assert inferred_year.metrics["copy_ratio"] == 0 and same_path.metrics["copy_ratio"] == 0


def test_a_value_given_for_a_stored_report_scanned_again_is_not_shown_as_a_guess(tmp_path):
    """The stored report's year was inferred (2023年度); the scan gives --year 2024: 2024 is what a person said."""
    old, _, _ = last_year_and_this_year()
    own = tmp_path / "赵四.txt"
    own.write_text("2023年度民主生活会对照检查材料\n" + old, encoding="utf-8")
    with api.open_corpus(tmp_path / "c.db", create=True) as corpus:
        api.add_paths(corpus, [own])
        report = api.scan_batch(corpus, [own], meta=meta(None, None, 2024, meeting=None, team=None)).reports[0]
    scanned = report.submission.meta
    assert scanned.year == 2024 and "year" not in scanned.inferred and "meeting" in scanned.inferred


@pytest.mark.parametrize("archived, given", [("张　三", "张三"), ("张三 ", " 张三"), ("ＺＨＡＮＧ", "ZHANG"),
                                              ("买买提·艾力", "买买提•艾力"), ("張曉明", "张晓明"),
                                              ("张三（副局长）", "张三")])
def test_a_name_written_with_padding_or_another_width_is_the_same_author(tmp_path, archived, given):
    """Name lists pad two-character names with a full-width space (张　三); a cell keeps a stray space; a Big5 report
    names 張曉明 (its text is compared as simplified); a list adds the post in brackets (张三（副局长）): still the
    author's own earlier report, never 'copied' from another author."""
    old, new, _ = last_year_and_this_year()
    with api.open_corpus(tmp_path / "c.db", create=True) as corpus:
        api.add_text(corpus, old, "2022.txt", meta(archived, "某镇", 2022))
        report = api.scan_text(corpus, new, "2024.txt", meta(given, "某镇", 2024))
    assert {p.kind for p in report.passages if p.kind != "formula"} == {"self_reuse"}


def test_different_names_stay_different_owners():
    assert not same_owner(DocumentMeta(author="张三"), DocumentMeta(author="张 四"))
    assert not same_owner(DocumentMeta(author=" "), DocumentMeta(author="　"))  # blank is unknown, not one person


# ---------------------------------------------------------------- the command line


@pytest.fixture
def runner():
    return CliRunner()


@pytest.fixture
def db(tmp_path, runner):
    path = tmp_path / "m.db"
    result = runner.invoke(cli, ["add", *map(str, SEEDS[:2]), "--db", str(path), "--meeting", "组织生活会", "--personal"])
    assert result.exit_code == 0, result.output
    return path


def _listed(runner, db, *args):
    result = runner.invoke(cli, ["meta", *args, "--db", str(db), "--format", "json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def test_add_options_set_meeting_and_team(runner, db):
    rows = _listed(runner, db)
    assert [(r["meeting"], r["team"]) for r in rows] == [("组织生活会", False)] * 2
    assert all("meeting" not in r["inferred"] and "team" not in r["inferred"] for r in rows)
    assert rows[1]["year"] == 2022 and "year" in rows[1]["inferred"]


def test_meta_edits_by_id_and_by_path(runner, db):
    [row] = _listed(runner, db, "1", "--author", "局长甲", "--year", "2021", "--team")
    assert (row["id"], row["author"], row["year"], row["team"]) == (1, "局长甲", 2021, True)
    [row] = _listed(runner, db, str(SEEDS[1]), "--unit", "市x局")
    assert (row["id"], row["unit"], row["year"]) == (2, "市x局", 2022) and "year" in row["inferred"]
    text = runner.invoke(cli, ["meta", "--db", str(db)]).output
    assert "author=局长甲" in text and "year=2022(推断)" in text


def test_meta_refuses_unknown_documents_and_edits_without_targets(runner, db):
    missing = runner.invoke(cli, ["meta", "99", "--db", str(db), "--year", "2020"])
    assert missing.exit_code == ExitCode.ERROR and "99" in missing.output
    assert runner.invoke(cli, ["meta", "--db", str(db), "--year", "2020"]).exit_code == ExitCode.USAGE


@pytest.mark.parametrize("given", [[], ["--author", "张三"]])
def test_a_copy_into_a_submission_of_unknown_author_is_said_to_be_possibly_its_own(tmp_path, given):
    """张三's 2024 report reuses his archived 2023 one; scanned without his name, the copy reads 'copied' from 张三: the
    scan says which files' authors are unknown, as it does for files a manifest does not list."""
    old, new, _ = last_year_and_this_year()
    (tmp_path / "archive").mkdir()
    (tmp_path / "archive" / "2023.txt").write_text(old, encoding="utf-8")
    (tmp_path / "2024").mkdir()
    (tmp_path / "2024" / "张三2024.txt").write_text(new, encoding="utf-8")
    (tmp_path / "2024" / "clean.txt").write_text(seed_text(1), encoding="utf-8")
    runner, db = CliRunner(), str(tmp_path / "c.db")
    assert runner.invoke(cli, ["add", str(tmp_path / "archive"), "--db", db, "--author", "张三", "--year", "2023"]).exit_code == 0
    result = runner.invoke(cli, ["scan", str(tmp_path / "2024"), "--db", db, "--workers", "1", *given])
    warned = [line for line in result.output.splitlines() if "of unknown author" in line]
    if given:
        assert warned == []
        return
    assert warned == [f"warning: {tmp_path / '2024'}: 1 file of unknown author (张三2024.txt): its passages copied from "
                      "another author's report may be its author's own earlier text; give the authors (--manifest or --author)"]
    zh = runner.invoke(cli, ["--lang", "zh", "scan", str(tmp_path / "2024"), "--db", db, "--workers", "1"])
    assert "1 个文件作者未知（张三2024.txt）：其中复制他人的段落可能是作者本人的旧稿；请给出作者（--manifest 或 --author）" in zh.output


def test_a_copy_from_an_archived_report_of_unknown_author_is_said_to_be_possibly_the_submitters_own(tmp_path):
    """The archive was added without authors: 张三's reuse of his own 2023 report reads 'copied' from a report of
    unknown author, and the scan says so; once the archive's author is given it is his self_reuse, and nothing is said."""
    old, new, _ = last_year_and_this_year()
    (tmp_path / "archive").mkdir()
    (tmp_path / "archive" / "2023.txt").write_text(old, encoding="utf-8")
    (tmp_path / "2024").mkdir()
    (tmp_path / "2024" / "张三2024.txt").write_text(new, encoding="utf-8")
    runner, db = CliRunner(), str(tmp_path / "c.db")
    assert runner.invoke(cli, ["add", str(tmp_path / "archive"), "--db", db]).exit_code == 0
    scan = ["scan", str(tmp_path / "2024"), "--db", db, "--workers", "1", "--author", "张三"]
    warned = [line for line in runner.invoke(cli, scan).stderr.splitlines() if "unknown author" in line]
    assert warned == [f"warning: {tmp_path / '2024'}: 1 file with passages copied from reports of unknown author "
                      "(张三2024.txt): they may be the submitter's own earlier text; give the archive's authors "
                      "(chachong meta ID --author NAME, or add --manifest)"]
    zh = runner.invoke(cli, ["--lang", "zh", *scan]).stderr
    assert "1 个文件中有复制自作者未知报告的段落（张三2024.txt）：可能是送检人本人的旧稿；请给出文档库中报告的作者" in zh
    assert runner.invoke(cli, ["meta", str(tmp_path / "archive" / "2023.txt"), "--db", db, "--author", "张三"]).exit_code == 0
    assert "unknown author" not in runner.invoke(cli, scan).stderr
