"""Manifests: paths stay under the manifest's folder, years are years, the header is required, a path is listed once."""

from __future__ import annotations

import io
import json
import shutil
import zipfile

import pytest
from click.testing import CliRunner

from detector.cli import ExitCode, cli
from detector.errors import ManifestError
from detector.ingest.manifest import read_manifest
from planting import SAMPLE

SEEDS = sorted(SAMPLE.glob("*.txt"))


@pytest.fixture
def folder(tmp_path):
    root = tmp_path / "archive"
    root.mkdir()
    for seed in SEEDS[:3]:
        shutil.copy(seed, root / seed.name)
    return root


def _manifest(folder, *lines, header="path,author,unit,year"):
    path = folder / "manifest.csv"
    path.write_text("\n".join(([header] if header else []) + list(lines)) + "\n", encoding="utf-8")
    return path


def _refusal(manifest, **kwargs) -> str:
    with pytest.raises(ManifestError) as caught:
        read_manifest(manifest, **kwargs)
    message = str(caught.value)
    assert "\n" not in message and message.startswith(f"{manifest}: ")
    return message


def test_paths_outside_the_manifests_folder_are_refused(folder):
    manifest = _manifest(folder, f"{SEEDS[0].name},张三,某局,2023", "../../../../etc/passwd,李四,某局,2023",
                         "/etc/hostname,王五,某局,2023")
    message = _refusal(manifest)
    assert "2 wrong rows" in message
    assert "line 3: ../../../../etc/passwd lies outside the manifest's folder" in message
    assert "line 4: /etc/hostname lies outside" in message and "--allow-outside" in message
    assert len(read_manifest(manifest, allow_outside=True)) == 3


def test_add_with_an_outside_path_changes_nothing_and_exits_1(folder, tmp_path):
    manifest = _manifest(folder, f"{SEEDS[0].name},张三,某局,2023", "/etc/hostname,王五,某局,2023")
    db = tmp_path / "c.db"
    result = CliRunner().invoke(cli, ["add", "--manifest", str(manifest), "--db", str(db)])
    assert result.exit_code == ExitCode.ERROR
    assert "/etc/hostname lies outside" in result.output and "Traceback" not in result.output
    stats = CliRunner().invoke(cli, ["stats", "--db", str(db), "--format", "json"])
    assert not db.exists() or json.loads(stats.output)["documents"] == 0


@pytest.mark.parametrize("year", ["99999999999999999999999", "²⁰²³", "1800", "2101", "２０２３", "二〇二三", "-5"])
def test_a_year_that_is_not_a_year_is_a_clear_row_error(folder, year):
    message = _refusal(_manifest(folder, f"{SEEDS[0].name},张三,某局,{year}"))
    assert f"line 2: year '{year[:20]}' is not a year from 1949 to 2100" in message


@pytest.mark.parametrize("command", ["add", "scan", "rebuild"])
def test_a_bad_year_is_one_line_in_every_command(folder, tmp_path, command):
    manifest = _manifest(folder, f"{SEEDS[0].name},张三,某局,²⁰²³")
    db = tmp_path / "c.db"
    CliRunner().invoke(cli, ["add", str(SEEDS[4]), "--db", str(db)])
    args = {"add": ["add", str(folder)], "scan": ["scan", str(folder)], "rebuild": ["rebuild", "--from", str(folder)]}[command]
    result = CliRunner().invoke(cli, [*args, "--db", str(db), "--manifest", str(manifest)])
    assert result.exit_code == ExitCode.ERROR, result.output
    assert result.output.count("error:") == 1 and "line 2: year '²⁰²³'" in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)


def test_year_options_outside_the_range_are_usage_errors(tmp_path):
    result = CliRunner().invoke(cli, ["add", str(SEEDS[0]), "--db", str(tmp_path / "c.db"), "--year", "99999999999999999999999"])
    assert result.exit_code == ExitCode.USAGE and "1949" in result.output


def test_a_manifest_without_a_header_is_refused(folder):
    message = _refusal(_manifest(folder, f"{SEEDS[0].name},张三,某局,2023", header=None))
    assert "the first line must be the header path,author,unit,year" in message


def test_an_empty_manifest_is_refused(folder):
    (folder / "manifest.csv").write_text("", encoding="utf-8")
    assert "the first line must be the header" in _refusal(folder / "manifest.csv")


def test_a_path_listed_twice_names_both_rows(folder):
    manifest = _manifest(folder, f"{SEEDS[0].name},张三,某局,2023", f"{SEEDS[1].name},李四,某局,2023",
                         f"./{SEEDS[0].name},王五,某局,2022")
    assert f"line 4: ./{SEEDS[0].name} is listed already on line 2" in _refusal(manifest)


def test_a_good_manifest_still_reads(folder):
    manifest = _manifest(folder, f"{SEEDS[0].name},张三,某局,2023", f"{SEEDS[1].name},,,", header="path,author,unit,year")
    found = read_manifest(manifest)
    assert found[(folder / SEEDS[0].name).resolve()].year == 2023
    assert found[(folder / SEEDS[1].name).resolve()].author is None


def test_a_manifest_written_on_windows_names_its_files_with_backslashes(folder):
    (folder / "2024").mkdir()
    shutil.move(folder / SEEDS[0].name, folder / "2024" / SEEDS[0].name)
    manifest = _manifest(folder, f"2024\\{SEEDS[0].name},张三,某局,2024")
    assert read_manifest(manifest)[(folder / "2024" / SEEDS[0].name).resolve()].author == "张三"


def test_a_scan_with_a_manifest_names_the_files_the_manifest_does_not_list(folder, tmp_path):
    """A row that misses its file (a typo, a renamed file) leaves that author unknown: own reuse would read as copying."""
    db = tmp_path / "corpus.db"
    assert CliRunner().invoke(cli, ["add", str(SAMPLE / "004_53bd226f14dc173a.txt"), "--db", str(db)]).exit_code == 0
    manifest = _manifest(folder, f"{SEEDS[0].name},张三,某局,2023", f"{SEEDS[1].name} ,李四,某局,2023")
    result = CliRunner().invoke(cli, ["scan", str(folder), "--manifest", str(manifest), "--db", str(db)])
    assert result.exit_code == ExitCode.OK, result.output
    warnings = [line for line in result.stderr.splitlines() if line.startswith("warning:")]
    assert len(warnings) == 1 and SEEDS[2].name in warnings[0] and SEEDS[0].name not in warnings[0]
    assert "manifest" in warnings[0] and "inferred" in warnings[0]
    listed = CliRunner().invoke(cli, ["scan", str(folder / SEEDS[0].name), "--manifest", str(manifest), "--db", str(db)])
    assert "warning" not in listed.stderr  # a manifest may list more than is scanned
    chinese = CliRunner().invoke(cli, ["--lang", "zh", "scan", str(folder), "--manifest", str(manifest), "--db", str(db)])
    assert f"1 个文件不在清单中（{SEEDS[2].name}）：作者只能从正文推断" in chinese.stderr and "in the manifest" not in chinese.stderr


def test_adding_by_a_manifest_names_a_listed_file_that_is_not_there_as_the_manifests_path(folder, tmp_path):
    manifest = _manifest(folder, f"{SEEDS[0].name},张三,某局,2023", "张三2024.txt,张三,某局,2024")
    result = CliRunner().invoke(cli, ["add", "--manifest", str(manifest), "--db", str(tmp_path / "c.db")])
    assert result.exit_code == ExitCode.ERROR and "added 1," in result.output
    [line] = [line for line in result.output.splitlines() if line.startswith("error:")]
    assert "张三2024.txt" in line and "the manifest lists it, but there is no such file" in line
    assert "moved or deleted after it was listed" not in line


# ---------------------------------------------------------------- encodings: as Excel saves a manifest

def _table(*rows, header="path,author,unit,year", separator=","):
    return "".join(separator.join(cells) + "\r\n" for cells in [header.split(","), *rows])  # Excel ends lines with CRLF


def _saved(folder, data: bytes, name="manifest.csv"):
    (folder / name).write_bytes(data)
    return folder / name


def _people(found: dict) -> dict:
    return {path.name: (meta.author, meta.unit, meta.year) for path, meta in found.items()}


def test_a_gbk_manifest_saved_by_excel_on_chinese_windows_reads_exactly(folder):
    """Excel's "CSV (逗号分隔)" on Chinese Windows is GBK; 堃 and 喆 (GBK, not GB2312) must come out too."""
    (folder / "2024").mkdir()
    shutil.move(folder / SEEDS[0].name, folder / "2024" / SEEDS[0].name)
    text = _table([f"2024\\{SEEDS[0].name}", "张三", "中共某县委组织部", "2024"],
                  [SEEDS[1].name, "王堃", "县纪委监委第三派驻纪检监察组", "2023"], [SEEDS[2].name, "李喆", "", ""])
    data = text.encode("gb18030")
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")  # the bytes really are not UTF-8
    assert _people(read_manifest(_saved(folder, data))) == {
        SEEDS[0].name: ("张三", "中共某县委组织部", 2024), SEEDS[1].name: ("王堃", "县纪委监委第三派驻纪检监察组", 2023),
        SEEDS[2].name: ("李喆", None, None)}


def test_a_gbk_manifest_gives_add_its_names(folder, tmp_path):
    manifest = _saved(folder, _table([SEEDS[0].name, "赵六", "某镇党委", "2022"]).encode("gbk"))
    db = tmp_path / "c.db"
    added = CliRunner().invoke(cli, ["add", "--manifest", str(manifest), "--db", str(db)])
    assert added.exit_code == ExitCode.OK, added.output
    [document] = json.loads(CliRunner().invoke(cli, ["meta", "--db", str(db), "--format", "json"]).output)
    assert (document["author"], document["unit"], document["year"]) == ("赵六", "某镇党委", 2022)


def test_a_utf8_manifest_with_a_bom_reads_exactly(folder):
    data = _table([SEEDS[0].name, "张三", "某局", "2023"]).encode("utf-8-sig")
    assert _people(read_manifest(_saved(folder, data))) == {SEEDS[0].name: ("张三", "某局", 2023)}


def test_excels_unicode_text_utf16_tab_separated_reads_exactly(folder):
    """Excel's "Unicode 文本" is UTF-16 with a BOM, tab-separated; a name with a comma stays one cell."""
    text = _table([SEEDS[0].name, "张三", "某局,办公室", "2023"], [SEEDS[1].name, "李四", "某县", ""], separator="\t")
    found = read_manifest(_saved(folder, text.encode("utf-16"), name="manifest.txt"))
    assert _people(found) == {SEEDS[0].name: ("张三", "某局,办公室", 2023), SEEDS[1].name: ("李四", "某县", None)}


def test_a_big5_manifest_is_read_as_big5_not_as_gbk_nonsense(folder):
    """Big5 bytes decode as GB18030 too: 陳明 would come out as 朝 and a private-use character."""
    data = _table([SEEDS[0].name, "陳明", "", ""]).encode("big5")
    assert data.decode("gb18030") != data.decode("big5")
    assert _people(read_manifest(_saved(folder, data))) == {SEEDS[0].name: ("陳明", None, None)}


def test_an_undecodable_manifest_is_one_line_naming_it_and_saying_to_save_it_as_csv_utf8(folder):
    """Not UTF-8, UTF-16 nor GB18030 (0x80 and 0xFF lead no GB18030 character): refused, not guessed at."""
    message = _refusal(_saved(folder, f"path,author\r\n{SEEDS[0].name},".encode() + b"\x80\xff\x80\r\n"))
    assert "could not be decoded as UTF-8, UTF-16 or GB18030" in message and "--encoding" not in message
    assert "save it as CSV UTF-8" in message and "path,author,unit,year" in message


def test_a_workbook_given_as_the_manifest_is_told_to_be_saved_as_csv(folder):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as workbook:
        workbook.writestr("xl/workbook.xml", "<workbook/>")
    message = _refusal(_saved(folder, buffer.getvalue(), name="manifest.xlsx"))
    assert "is a zip archive (.docx, .xlsx" in message and "not a CSV" in message and "save it as CSV UTF-8" in message


def test_bytes_that_decode_as_gb18030_without_the_header_are_refused(folder):
    """Binary junk that happens to decode as GB18030 gives no header line: refused, no nonsense names stored."""
    junk = bytes(byte for pair in zip(range(0x81, 0xFE), range(0xA1, 0xFE)) for byte in pair) * 3
    junk.decode("gb18030")  # raises if it does not decode
    assert "the first line must be the header path,author,unit,year" in _refusal(_saved(folder, junk))


def test_binary_bytes_are_refused_as_binary(folder):
    message = _refusal(_saved(folder, b"path,author\x00\x01\x02" * 20 + b"\x00\x03"))
    assert "binary" in message and "save it as CSV UTF-8" in message


def test_an_undecodable_manifest_is_one_error_line_in_chinese_too(folder, tmp_path):
    manifest = _saved(folder, b"path,author\r\nx.txt,\x80\xff\r\n")
    result = CliRunner().invoke(cli, ["--lang", "zh", "add", "--manifest", str(manifest), "--db", str(tmp_path / "c.db")])
    assert result.exit_code == ExitCode.ERROR and "Traceback" not in result.output
    [line] = [line for line in result.output.splitlines() if line.strip()]
    assert str(manifest) in line and "无法按 UTF-8、UTF-16 或 GB18030 解码" in line
    assert "请在 Excel 中另存为“CSV UTF-8(逗号分隔)”，首行为表头 path,author,unit,year[,meeting,team]" in line
