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
