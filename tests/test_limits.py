"""Bounded work per submission: characters, paragraphs and unpacked XML over the Settings limits are one clear error."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from detector.cli import ExitCode, cli
from detector.errors import DocumentTooLong, SettingsError
from detector.ingest import read_document
from detector.settings import DEFAULT, Settings
from ingest_samples import write_docx
from planting import SAMPLE

SEEDS = sorted(SAMPLE.glob("*.txt"))


def _refusal(path, settings) -> str:
    with pytest.raises(DocumentTooLong) as caught:
        read_document(path, settings=settings)
    message = str(caught.value)
    assert message.startswith(f"{path}: ") and "\n" not in message and "raise Settings." in message
    return message


def test_a_text_over_the_character_limit_is_refused(tmp_path):
    text = SEEDS[0].read_text(encoding="utf-8")
    (tmp_path / "long.txt").write_text(text, encoding="utf-8")
    message = _refusal(tmp_path / "long.txt", Settings(max_document_chars=len(text) - 1))
    assert f"the text has {len(text):,} characters, over the limit of {len(text) - 1:,}" in message
    assert read_document(tmp_path / "long.txt", settings=Settings(max_document_chars=len(text))).text == text


def test_a_huge_text_file_is_refused_before_it_is_decoded(tmp_path):
    (tmp_path / "huge.txt").write_bytes("查重".encode("utf-8") * 4000)  # 24,000 bytes: at least 6,000 characters
    assert "the text has at least 6,000 characters" in _refusal(tmp_path / "huge.txt", Settings(max_document_chars=5000))


def test_a_docx_with_too_many_paragraphs_is_refused(tmp_path):
    write_docx(tmp_path / "many.docx", [f"第{n}段。" for n in range(60)])
    assert "more than 50 paragraphs" in _refusal(tmp_path / "many.docx", Settings(max_paragraphs=50))
    assert len(read_document(tmp_path / "many.docx", settings=Settings(max_paragraphs=60)).text.splitlines()) == 60


def test_a_docx_whose_xml_unpacks_too_large_is_refused_before_parsing(tmp_path):
    write_docx(tmp_path / "big.docx", ["本人对照检查材料。" * 200] * 50)
    message = _refusal(tmp_path / "big.docx", Settings(max_xml_bytes=64 * 1024))
    assert "part word/document.xml of the .docx unpacks to" in message and "MiB of XML" in message


def test_the_limits_are_documented_settings_with_sane_defaults():
    assert DEFAULT.max_document_chars >= 300_000 and DEFAULT.max_paragraphs >= 10_000
    with pytest.raises(SettingsError):
        Settings(max_document_chars=0)


def test_a_batch_with_one_overlong_file_scans_the_others(tmp_path, monkeypatch):
    db = tmp_path / "c.db"
    assert CliRunner().invoke(cli, ["add", *map(str, SEEDS[:3]), "--db", str(db)]).exit_code == 0
    batch = tmp_path / "batch"
    batch.mkdir()
    (batch / "ok.txt").write_text(SEEDS[3].read_text(encoding="utf-8"), encoding="utf-8")
    (batch / "book.txt").write_text("本人对照检查材料。" * 130_000, encoding="utf-8")  # 1.17 M characters
    result = CliRunner().invoke(cli, ["scan", str(batch), "--db", str(db), "--format", "json"])
    assert result.exit_code == ExitCode.ERROR
    assert f"error: {batch / 'book.txt'}: the text has" in result.stderr and "over the limit of 1,000,000" in result.stderr
    assert '"chars": ' in result.stdout and "ok.txt" in result.stdout
