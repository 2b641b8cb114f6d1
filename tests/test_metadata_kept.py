"""Metadata people set (meta, manifests, add's options) is data: it survives edits, rebuilds (also --full), removals; paths have one form."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from detector import api
from detector.cli import cli
from planting import SAMPLE

OWN = "003_42e09aa36b9c46a6.txt"  # a personal report (inferred 个人, 2023): 赵四's, once `meta` says so
OTHER = "002_36651b71203e1f41.txt"


@pytest.fixture
def archive(tmp_path):
    folder = tmp_path / "archive"
    folder.mkdir()
    for seed in sorted(SAMPLE.glob("*.txt")):
        shutil.copy(seed, folder / seed.name)
    return folder


def run(*args, ok=(0,)):
    result = CliRunner().invoke(cli, [str(a) for a in args])
    assert result.exit_code in ok, result.output
    return result


def metas(db) -> dict:
    listed = json.loads(run("meta", "--db", db, "--format", "json").stdout)
    return {Path(d["path"]).name: d for d in listed}


def resubmission_kinds(db, archive, tmp_path) -> set:
    """Kinds of the counted passages when 赵四 hands in his archived report again in 2024."""
    sub = tmp_path / "2024赵四.txt"
    sub.write_text(SAMPLE.joinpath(OWN).read_text(encoding="utf-8").replace("2023", "2024"), encoding="utf-8")
    out = run("scan", sub, "--db", db, "--author", "赵四", "--year", 2024, "--format", "json").stdout
    report = json.loads(out)["reports"][0]
    return {p["kind"] for p in report["passages"] if p["kind"] not in ("formula", "quotation")}


def edit(path: Path) -> None:
    path.write_text(path.read_text(encoding="utf-8") + "\n此致。本人补充说明一条。\n", encoding="utf-8")


def test_meta_survives_an_edit_a_rebuild_a_full_rebuild_and_a_removal(archive, tmp_path):
    db = tmp_path / "corpus.db"
    run("add", archive, "--db", db)
    run("meta", archive / OWN, "--db", db, "--author", "赵四", "--unit", "某局")
    assert resubmission_kinds(db, archive, tmp_path) == {"self_reuse"}
    steps = [lambda: (edit(archive / OWN), run("rebuild", "--db", db, "--from", archive)),
             lambda: run("rebuild", "--db", db, "--from", archive, "--full"),
             lambda: run("remove", archive / OWN, "--db", db),
             lambda: run("rebuild", "--db", db, "--from", archive),  # the file is still in the archive: it comes back
             lambda: run("add", archive, "--db", db)]
    for step in steps:
        step()
        own = metas(db).get(OWN)
        if own is not None:
            assert (own["author"], own["unit"]) == ("赵四", "某局") and "author" not in own["inferred"]
    assert metas(db)[OWN]["year"] == 2023 and "year" in metas(db)[OWN]["inferred"]
    assert resubmission_kinds(db, archive, tmp_path) == {"self_reuse"}


def test_a_manifest_value_survives_when_the_manifest_is_gone_and_the_file_changed(archive, tmp_path):
    db = tmp_path / "corpus.db"
    (archive / "manifest.csv").write_text(f"path,author,unit\n{OTHER},王五,某县\n", encoding="utf-8")
    run("rebuild", "--db", db, "--from", archive, "--manifest", archive / "manifest.csv")
    assert metas(db)[OTHER]["author"] == "王五"
    edit(archive / OTHER)
    run("rebuild", "--db", db, "--from", archive)
    run("rebuild", "--db", db, "--from", archive, "--full")
    assert (metas(db)[OTHER]["author"], metas(db)[OTHER]["unit"]) == ("王五", "某县")


def test_a_correction_is_not_overruled_by_the_nightly_manifest(archive, tmp_path):
    db = tmp_path / "corpus.db"
    manifest = archive / "manifest.csv"
    manifest.write_text(f"path,author\n{OTHER},王五\n", encoding="utf-8")
    run("rebuild", "--db", db, "--from", archive, "--manifest", manifest)
    run("meta", archive / OTHER, "--db", db, "--author", "王五一")
    run("rebuild", "--db", db, "--from", archive, "--manifest", manifest)
    assert metas(db)[OTHER]["author"] == "王五一"
    manifest.write_text(f"path,author\n{OTHER},王六\n", encoding="utf-8")  # the manifest itself changed: it is news
    run("rebuild", "--db", db, "--from", archive, "--manifest", manifest)
    assert metas(db)[OTHER]["author"] == "王六"


def test_a_correction_after_add_is_not_overruled_by_the_same_manifest_read_again_at_night(archive, tmp_path):
    db = tmp_path / "corpus.db"
    manifest = archive / "manifest.csv"
    manifest.write_text(f"path,author\n{OTHER},王五\n", encoding="utf-8")
    run("add", "--manifest", manifest, "--db", db)
    run("meta", archive / OTHER, "--db", db, "--author", "王五一")
    run("rebuild", "--db", db, "--from", archive, "--manifest", manifest)  # the manifest add read: no news
    assert metas(db)[OTHER]["author"] == "王五一"


def test_a_correction_said_again_after_a_manifest_change_is_news(archive, tmp_path):
    db = tmp_path / "corpus.db"
    manifest = archive / "manifest.csv"
    manifest.write_text(f"path,author\n{OTHER},王五\n", encoding="utf-8")
    run("rebuild", "--db", db, "--from", archive, "--manifest", manifest)
    run("meta", archive / OTHER, "--db", db, "--author", "王五一")
    manifest.write_text(f"path,author\n{OTHER},王六\n", encoding="utf-8")
    run("rebuild", "--db", db, "--from", archive, "--manifest", manifest)
    run("meta", archive / OTHER, "--db", db, "--author", "王五一")  # the person corrects it again
    run("rebuild", "--db", db, "--from", archive, "--manifest", manifest)
    assert metas(db)[OTHER]["author"] == "王五一"


def test_two_cadres_identical_reports_keep_each_ones_author(archive, tmp_path):
    """李四 handed in the very bytes of 张三's report: one document is stored (张三.txt); what the manifest says of
    李四.txt must not rename its author, or 张三's reuse of his own report next year reads as copying 李四."""
    db = tmp_path / "corpus.db"
    shutil.copy(archive / OWN, archive / "李四.txt")
    manifest = archive / "manifest.csv"
    manifest.write_text(f"path,author,unit\n{OWN},张三,某镇\n李四.txt,李四,某县\n", encoding="utf-8")
    added = run("add", "--manifest", manifest, "--db", db)
    nightly = run("rebuild", "--db", db, "--from", archive, "--manifest", manifest)
    run("rebuild", "--db", db, "--from", archive, "--manifest", manifest, "--full")
    assert (metas(db)[OWN]["author"], metas(db)[OWN]["unit"]) == ("张三", "某镇") and "李四.txt" not in metas(db)
    for said in (added.stderr, nightly.stderr):  # the office wants to know: two authors, one text
        warned = [line for line in said.splitlines() if "李四.txt" in line]
        assert len(warned) == 1 and "warning" in warned[0].lower() and OWN in warned[0] and "张三" in warned[0], said


def test_rebuild_infers_what_add_infers(archive, tmp_path):
    run("add", archive, "--db", tmp_path / "added.db")
    run("rebuild", "--db", tmp_path / "rebuilt.db", "--from", archive)
    added, rebuilt = metas(tmp_path / "added.db"), metas(tmp_path / "rebuilt.db")
    assert added == rebuilt
    assert any("year" in m["inferred"] for m in rebuilt.values())


def test_add_then_rebuild_of_the_same_folder_reindexes_and_renames_nothing(archive, tmp_path, monkeypatch):
    monkeypatch.chdir(archive.parent)
    run("add", "archive", "--db", "corpus.db")
    result = run("rebuild", "--db", "corpus.db", "--from", "archive")
    assert "added 0, changed 0, removed 0, renamed 0" in result.stdout
    with api.open_corpus(tmp_path / "corpus.db") as corpus:
        assert {p for _, p, _ in corpus.store.documents()} == {str(p) for p in archive.resolve().glob("*.txt")}


def test_documents_are_found_by_any_spelling_of_their_path(archive, tmp_path, monkeypatch):
    monkeypatch.chdir(archive.parent)
    run("add", "archive/./" + OWN, "--db", "corpus.db")
    run("meta", "archive/" + OWN, "--db", "corpus.db", "--author", "赵四")
    run("meta", archive / OWN, "--db", "corpus.db", "--unit", "某局")
    assert (metas(tmp_path / "corpus.db")[OWN]["author"], metas(tmp_path / "corpus.db")[OWN]["unit"]) == ("赵四", "某局")


def test_a_file_gone_for_a_night_comes_back_with_its_metadata(archive, tmp_path):
    db = tmp_path / "corpus.db"
    run("rebuild", "--db", db, "--from", archive)
    run("meta", archive / OWN, "--db", db, "--author", "赵四", "--year", 2022)
    away = tmp_path / OWN
    shutil.move(archive / OWN, away)
    run("rebuild", "--db", db, "--from", archive)
    assert OWN not in metas(db)
    shutil.move(away, archive / OWN)
    run("rebuild", "--db", db, "--from", archive)
    assert (metas(db)[OWN]["author"], metas(db)[OWN]["year"]) == ("赵四", 2022)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_self_reuse_survives_any_sequence_of_edits_moves_rebuilds_removals_and_adds(archive, tmp_path, seed):
    import random

    rng = random.Random(seed)
    db, own = tmp_path / "corpus.db", archive / OWN
    run("add", archive, "--db", db)
    run("meta", own, "--db", db, "--author", "赵四")

    def move():
        nonlocal own
        target = archive / f"moved{rng.randint(0, 99)}" / OWN
        target.parent.mkdir(exist_ok=True)
        shutil.move(own, target)
        own = target

    nightly = lambda: run("rebuild", "--db", db, "--from", archive)  # noqa: E731
    # the archive changes one file at a time between rebuilds (edited and moved at once, it would be another file)
    operations = {"edit": lambda: (edit(own), nightly()), "move": lambda: (move(), nightly()),
                  "rebuild": lambda: run("rebuild", "--db", db, "--from", archive),
                  "full": lambda: run("rebuild", "--db", db, "--from", archive, "--full"),
                  "remove": lambda: run("remove", own, "--db", db, ok=(0, 1)), "add": lambda: run("add", archive, "--db", db)}
    done = []
    for name in rng.choices(sorted(operations), k=10) + ["rebuild"]:
        operations[name]()
        done.append(name)
        found = metas(db).get(OWN)
        assert found is None or found["author"] == "赵四", done
    assert metas(db)[OWN]["author"] == "赵四", done
    assert resubmission_kinds(db, archive, tmp_path) == {"self_reuse"}, done
