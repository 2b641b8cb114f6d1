"""The terminal report and summary: hostile text from a submission, a source or their metadata is shown escaped."""

import re

from click.testing import CliRunner
from reuse_planting import seed_text

from detector.cli import cli

# a cursor move and line erase, a window title (OSC … BEL), a C1 CSI: what could hide or overwrite a report's lines
HOSTILE = "\x1b[1A\x1b[2K\x1b]0;title\x07\x9b2J"
IN_TITLE = "\x1b[A\x1b[K\x07\x9bJ"  # no digits: a title's subject (its inferred unit) has none
CONTROL = re.compile(r"[\x00-\x09\x0b-\x1f\x7f-\x9f]")


def _copied_paragraph() -> str:
    return next(p for p in seed_text(0).splitlines() if len(p) > 150)  # in no other report of the test


def test_control_characters_in_texts_and_metadata_are_escaped(tmp_path):
    paragraph = _copied_paragraph()
    title = f"{IN_TITLE}市某局领导班子2023年度民主生活会对照检查材料\n"  # its unit is inferred from the title
    hostile = paragraph[:40] + HOSTILE + paragraph[40:]
    (tmp_path / "archive").mkdir()
    (tmp_path / "archive" / "a.txt").write_text(title + seed_text(3) + "\n" + hostile, encoding="utf-8")
    batch = tmp_path / "batch"
    batch.mkdir()
    for n, seed in enumerate((4, 2)):
        (batch / f"{n}.txt").write_text(title + seed_text(seed) + "\n" + hostile + "\n《" + HOSTILE + "条例》规定：“党员必须遵守。”",
                                        encoding="utf-8")
    runner, db = CliRunner(), str(tmp_path / "c.db")
    assert runner.invoke(cli, ["add", str(tmp_path / "archive"), "--db", db]).exit_code == 0
    outputs = [runner.invoke(cli, args) for args in (["scan", str(batch), "--db", db, "--workers", "1", "--show-formulae"],
                                                     ["meta", "--db", db])]
    for result in outputs:
        assert result.exit_code == 0, result.output
        assert not CONTROL.findall(result.output), CONTROL.findall(result.output)
    assert "\\x1b]0;title\\x07" in outputs[0].output and "unit=\\x1b[A\\x1b[K\\x07\\x9bJ市某局" in outputs[1].output


def test_files_of_one_name_in_a_folder_per_person_are_told_apart(tmp_path):
    """Offices keep a folder per cadre, each holding 对照检查材料.txt: the ranking, the clusters and the pages name the
    folder that tells them apart, not the one file name every submission and source has."""
    paragraphs = [p for seed in (1, 2, 4) for p in seed_text(seed).splitlines() if len(p) >= 60]
    shared = _copied_paragraph()
    for n, person in enumerate(("张三", "李四")):
        (tmp_path / "2024" / person).mkdir(parents=True)
        (tmp_path / "2024" / person / "对照检查材料.txt").write_text("\n".join(paragraphs[n * 6 : n * 6 + 6] + [shared]),
                                                                encoding="utf-8")
    (tmp_path / "2022" / "王五").mkdir(parents=True)
    (tmp_path / "2022" / "王五" / "对照检查材料.txt").write_text("\n".join(paragraphs[20:26] + [shared]), encoding="utf-8")
    runner, db, out = CliRunner(), str(tmp_path / "c.db"), tmp_path / "out"
    assert runner.invoke(cli, ["add", str(tmp_path / "2022"), "--db", db]).exit_code == 0
    result = runner.invoke(cli, ["scan", str(tmp_path / "2024"), "--db", db, "--workers", "1", "--out", str(out)])
    ranking = [line for line in result.stdout.splitlines() if re.match(r" +\d+ +\d+\.\d%  ", line)]
    assert len(ranking) == 2 and all(re.search(r"(张三|李四)/对照检查材料.txt +王五/对照检查材料.txt", line) for line in ranking), ranking
    index = (out / "index.html").read_text(encoding="utf-8")
    assert ">张三/对照检查材料.txt</a>" in index and ">李四/对照检查材料.txt</a>" in index and ">对照检查材料.txt<" not in index
