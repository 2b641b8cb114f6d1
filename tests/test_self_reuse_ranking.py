"""Self-reuse is a finding of its own: its own colour and column, and a chosen measure ranks a batch and trips --fail-above."""

from __future__ import annotations

import json
import re

import pytest
from click.testing import CliRunner

from detector.cli import ExitCode, cli
from planting import SAMPLE

OWN_SEED, OTHER_SEED, FRESH, PLAIN = (SAMPLE / f for f in ("003_42e09aa36b9c46a6.txt", "000_5a8c092b610fea23.txt",
                                                           "002_36651b71203e1f41.txt", "004_53bd226f14dc173a.txt"))


def invoke(*args):
    return CliRunner().invoke(cli, [str(a) for a in args])


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    root = tmp_path_factory.mktemp("self-reuse")
    archive, batch = root / "archive", root / "batch"
    archive.mkdir()
    batch.mkdir()
    for seed in (OWN_SEED, OTHER_SEED):
        (archive / seed.name).write_text(seed.read_text(encoding="utf-8"), encoding="utf-8")
    (archive / "manifest.csv").write_text(f"path,author,unit,year\n{OWN_SEED.name},干部丙,某镇,2023\n"
                                          f"{OTHER_SEED.name},局长甲,市某局,2023\n", encoding="utf-8")
    db = root / "corpus.db"
    assert invoke("add", "--manifest", archive / "manifest.csv", "--db", db).exit_code == 0
    other = OTHER_SEED.read_text(encoding="utf-8").split("\n")
    texts = {"own.txt": OWN_SEED.read_text(encoding="utf-8").replace("2023", "2024"),
             "copy.txt": "\n".join(other[: len(other) // 2]) + "\n" + FRESH.read_text(encoding="utf-8"),
             "plain.txt": PLAIN.read_text(encoding="utf-8")}
    for name, text in texts.items():
        (batch / name).write_text(text, encoding="utf-8")
    (batch / "manifest.csv").write_text("path,author,unit,year\nown.txt,干部丙,某镇,2024\ncopy.txt,干部戊,某县,2024\n"
                                        "plain.txt,干部己,某乡,2024\n", encoding="utf-8")
    return db, batch


def scan(setup, *names, extra=()):
    db, batch = setup
    return invoke("scan", *(batch / n for n in names), "--db", db, "--manifest", batch / "manifest.csv", *extra)


def ranked_names(result) -> list:
    return [line.split()[2] for line in result.stdout.split("排名 ranking", 1)[1].splitlines()[1:4]]


def test_a_real_copy_ranks_above_a_report_reused_from_the_authors_own_last_year(setup, tmp_path):
    result = scan(setup, "own.txt", "copy.txt", "plain.txt", extra=("--out", tmp_path, "--format", "text"))
    assert result.exit_code == 0, result.output
    reports = {r["submission"]["path"].rsplit("/", 1)[1]: r for r in json.loads((tmp_path / "results.json").read_text())["reports"]}
    assert reports["own.txt"]["metrics"]["self_reuse_ratio"] > 0.9 and reports["own.txt"]["metrics"]["copy_ratio_excluding_self"] < 0.05
    assert reports["copy.txt"]["metrics"]["other_authors_ratio"] > 0.2
    assert ranked_names(result)[0] == "copy.txt"
    index = (tmp_path / "index.html").read_text(encoding="utf-8")
    order = re.findall(r'<td><a href="s\d+\.html">([^<]+)</a>', index)
    assert order[0] == "copy.txt"
    own_row = index[index.index(">own.txt</a>"):].split("</tr>", 1)[0]
    assert "bar k-self_reuse" in own_row and "bar k-copied" not in own_row


def test_rank_by_chooses_the_measure(setup):
    result = scan(setup, "own.txt", "copy.txt", "plain.txt", extra=("--rank-by", "copy_ratio"))
    assert ranked_names(result)[0] == "own.txt"


def test_fail_above_tests_the_chosen_measure(setup):
    assert scan(setup, "own.txt", "plain.txt", extra=("--fail-above", "0.5")).exit_code == ExitCode.OK
    assert scan(setup, "own.txt", "plain.txt", extra=("--fail-above", "0.5", "--fail-measure", "copy_ratio")).exit_code == ExitCode.FINDINGS
    assert scan(setup, "own.txt", "plain.txt", extra=("--fail-above", "0.5", "--fail-measure", "self_reuse_ratio")).exit_code == ExitCode.FINDINGS
    assert scan(setup, "copy.txt", "plain.txt", extra=("--fail-above", "0.2")).exit_code == ExitCode.FINDINGS
