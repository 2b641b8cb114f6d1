"""Reading real submission formats: .docx (order, tables, numbering, headers out), .pdf (paragraphs, running lines out), .doc, GBK."""

from __future__ import annotations

import difflib
import shutil
import subprocess
from pathlib import Path

import docx
import pytest

from detector.errors import ConverterMissing
from detector.ingest import SUPPORTED_SUFFIXES, iter_input_files, read_document
from detector.ingest import doc as doc_reader
from detector.ingest import ocr as ocr_reader
from detector.ingest.numbering import chinese_counting
from detector.ingest.pdf import PAGE_NUMBER, join_wrapped
from ingest_samples import (
    add_list_paragraph,
    add_numbering,
    append_runs_xml,
    reportlab_or_skip,
    sample_paragraphs,
    soffice_or_skip,
    write_doc,
    write_docx,
    write_image_only_pdf,
    write_pdf,
    write_scanned_pdf,
)


def test_supported_suffixes_cover_office_formats():
    assert {".txt", ".docx", ".pdf", ".doc"} <= set(SUPPORTED_SUFFIXES)


def test_folder_listing_picks_office_files(tmp_path):
    for name in ("a.docx", "b.pdf", "c.doc", "d.txt", "e.xlsx", ".~lock.a.docx", "~$a.docx"):
        (tmp_path / name).write_bytes(b"x")
    assert [p.name for p in iter_input_files([tmp_path])] == ["a.docx", "b.pdf", "c.doc", "d.txt"]


# --- .docx ---------------------------------------------------------------------------------------------


def test_docx_paragraphs_and_tables_in_document_order_without_header_and_footer(tmp_path):
    document = docx.Document()
    document.add_paragraph("一、存在的问题")
    table = document.add_table(rows=2, cols=2)
    for (row, col), text in {(0, 0): "问题", (0, 1): "整改措施", (1, 0): "学习不深入", (1, 1): "制定学习计划"}.items():
        table.cell(row, col).text = text
    document.add_paragraph("二、原因剖析")
    document.sections[0].header.paragraphs[0].text = "某某局党委办公室 页眉"
    document.sections[0].footer.paragraphs[0].text = "第 1 页"
    document.save(tmp_path / "r.docx")

    text = read_document(tmp_path / "r.docx").text

    assert text.split("\n") == ["一、存在的问题", "问题", "整改措施", "学习不深入", "制定学习计划", "二、原因剖析"]


def test_docx_merged_cells_are_read_once(tmp_path):
    document = docx.Document()
    table = document.add_table(rows=2, cols=2)
    merged = table.cell(0, 0).merge(table.cell(0, 1))
    merged.text = "合并的单元格"
    table.cell(1, 0).text = "左"
    table.cell(1, 1).text = "右"
    document.save(tmp_path / "m.docx")

    assert read_document(tmp_path / "m.docx").text.split("\n") == ["合并的单元格", "左", "右"]


def test_docx_nested_table_sits_inside_its_cell(tmp_path):
    document = docx.Document()
    outer = document.add_table(rows=1, cols=2)
    outer.cell(0, 0).text = "外层"
    inner = outer.cell(0, 1).add_table(rows=1, cols=1)
    inner.cell(0, 0).text = "内层"
    document.add_paragraph("表后")
    document.save(tmp_path / "n.docx")

    assert read_document(tmp_path / "n.docx").text.split("\n") == ["外层", "内层", "表后"]


def test_docx_automatic_numbering_becomes_text(tmp_path):
    document = docx.Document()
    num_id = add_numbering(document)
    add_list_paragraph(document, "存在的问题", num_id, 0)
    add_list_paragraph(document, "理论学习方面", num_id, 1)
    add_list_paragraph(document, "学习不够系统。", num_id, 2)
    add_list_paragraph(document, "联系实际不够。", num_id, 2)
    add_list_paragraph(document, "要点", num_id, 3)
    add_list_paragraph(document, "政治素质方面", num_id, 1)
    add_list_paragraph(document, "斗争精神不足。", num_id, 2)
    add_list_paragraph(document, "原因剖析", num_id, 0)
    document.save(tmp_path / "n.docx")

    assert read_document(tmp_path / "n.docx").text.split("\n") == [
        "一、存在的问题",
        "（一）理论学习方面",
        "1. 学习不够系统。",
        "2. 联系实际不够。",
        "要点",  # bullets carry no label
        "（二）政治素质方面",
        "1. 斗争精神不足。",  # a higher level restarts the ones below
        "二、原因剖析",
    ]


def test_docx_numbering_start_override(tmp_path):
    document = docx.Document()
    num_id = add_numbering(document, start_override={0: 3})
    add_list_paragraph(document, "整改措施", num_id, 0)
    document.save(tmp_path / "s.docx")

    assert read_document(tmp_path / "s.docx").text == "三、整改措施"


def test_docx_built_in_list_style_is_numbered(tmp_path):
    document = docx.Document()
    document.add_paragraph("加强理论学习", style="List Number")
    document.add_paragraph("强化担当作为", style="List Number")
    document.save(tmp_path / "l.docx")

    assert read_document(tmp_path / "l.docx").text == "1. 加强理论学习\n2. 强化担当作为"


def test_docx_tracked_changes_read_as_accepted(tmp_path):
    document = docx.Document()
    paragraph = document.add_paragraph("本人")
    append_runs_xml(
        paragraph,
        '<w:del w:id="1" w:author="a" w:date="2024-01-01T00:00:00Z"><w:r><w:delText>删掉的话</w:delText></w:r></w:del>'
        '<w:ins w:id="2" w:author="a" w:date="2024-01-01T00:00:00Z"><w:r><w:t>新加的话</w:t></w:r></w:ins>'
        '<w:r><w:tab/><w:t>结尾</w:t><w:br/><w:t>下一行</w:t></w:r>',
    )
    document.save(tmp_path / "t.docx")

    assert read_document(tmp_path / "t.docx").text == "本人新加的话\t结尾\n下一行"


def test_docx_field_code_left_out_field_result_kept(tmp_path):
    document = docx.Document()
    paragraph = document.add_paragraph("日期：")
    append_runs_xml(
        paragraph,
        '<w:r><w:fldChar w:fldCharType="begin"/></w:r><w:r><w:instrText> DATE \\@ "yyyy年M月" </w:instrText></w:r>'
        '<w:r><w:fldChar w:fldCharType="separate"/></w:r><w:r><w:t>2024年1月</w:t></w:r><w:r><w:fldChar w:fldCharType="end"/></w:r>',
    )
    document.save(tmp_path / "f.docx")

    assert read_document(tmp_path / "f.docx").text == "日期：2024年1月"


def test_docx_document_fields(tmp_path):
    write_docx(tmp_path / "报告 2023.docx", ["对照检查材料"])
    document = read_document(tmp_path / "报告 2023.docx")
    assert (document.format, document.text, len(document.sha256)) == ("docx", "对照检查材料", 64)


@pytest.mark.parametrize(
    "number, expected",
    [(1, "一"), (9, "九"), (10, "十"), (11, "十一"), (20, "二十"), (35, "三十五"), (100, "一百"), (105, "一百零五"),
     (110, "一百一十"), (1001, "一千零一"), (12000, "12000")],
)
def test_chinese_counting(number, expected):
    assert chinese_counting(number) == expected


# --- .pdf ----------------------------------------------------------------------------------------------


def test_pdf_paragraphs_rejoined_and_running_lines_removed(tmp_path):
    paragraphs = sample_paragraphs("001")
    write_pdf(tmp_path / "r.pdf", paragraphs, header="某某局党委办公室文件")

    text = read_document(tmp_path / "r.pdf").text

    assert "某某局党委办公室文件" not in text
    assert "- 2 -" not in text
    assert text.split("\n") == [p.replace(" ", "") for p in paragraphs]


@pytest.mark.parametrize("page_label", ["第{page}页", "{page}/9", "{page}", "Page {page} of 9"])
def test_pdf_page_number_styles_removed(tmp_path, page_label):
    paragraphs = sample_paragraphs("000")[:8]
    write_pdf(tmp_path / "p.pdf", paragraphs, page_numbers=page_label)
    assert read_document(tmp_path / "p.pdf").text.split("\n") == [p.replace(" ", "") for p in paragraphs]


def test_pdf_document_fields(tmp_path):
    write_pdf(tmp_path / "我的 报告.pdf", ["按照要求，本人认真查摆问题。"])
    document = read_document(tmp_path / "我的 报告.pdf")
    assert (document.format, document.text) == ("pdf", "按照要求，本人认真查摆问题。")


@pytest.mark.parametrize("line", ["- 3 -", "—3—", "3", "第3页", "第 3 页 共 10 页", "3/10", "Page 3 of 10"])
def test_page_number_lines(line):
    assert PAGE_NUMBER.match(line)


@pytest.mark.parametrize("line", ["3年来", "一、存在问题", "2023年度"])
def test_not_page_number_lines(line):
    assert not PAGE_NUMBER.match(line)


@pytest.mark.parametrize(
    "first, second, joined",
    [("深入学习贯彻", "党的二十大精神", "深入学习贯彻党的二十大精神"), ("the quick", "brown fox", "the quick brown fox"),
     ("self-crit-", "icism report", "self-criticism report"), ("2023", "年度", "2023年度"), ("学习", "2024", "学习2024")],
)
def test_wrapped_lines_join(first, second, joined):
    assert join_wrapped(first, second) == joined


# --- .doc ----------------------------------------------------------------------------------------------


def _require_converter():
    if not (shutil.which("antiword") or shutil.which("soffice") or shutil.which("libreoffice")):
        pytest.skip("no .doc converter installed (apt-get install antiword, or LibreOffice)")


DOC_SAMPLE = Path(__file__).resolve().parent / "data" / "ingest_sample_001.doc"  # 10 KiB: sample 001's first paragraphs


def test_committed_doc_sample(tmp_path):
    _require_converter()
    shutil.copy(DOC_SAMPLE, tmp_path / "旧 报告.doc")
    text = read_document(tmp_path / "旧 报告.doc").text
    assert [line.strip() for line in text.split("\n") if line.strip()] == sample_paragraphs("001")[:4]


def test_doc_read_through_a_converter(tmp_path):
    _require_converter()
    paragraphs = sample_paragraphs("001")
    write_doc(tmp_path / "旧 报告.doc", paragraphs, tmp_path)

    document = read_document(tmp_path / "旧 报告.doc")

    assert document.format == "doc"
    assert [line.strip() for line in document.text.split("\n") if line.strip()] == paragraphs


def test_doc_read_by_libreoffice_when_antiword_is_absent(tmp_path, monkeypatch):
    write_doc(tmp_path / "r.doc", sample_paragraphs("002")[:5], tmp_path)
    monkeypatch.setattr(doc_reader._Antiword, "available", staticmethod(lambda: False))
    assert read_document(tmp_path / "r.doc").text.strip().startswith(sample_paragraphs("002")[0])


def test_doc_without_any_converter_names_what_to_install(tmp_path, monkeypatch):
    shutil.copy(DOC_SAMPLE, tmp_path / "r.doc")
    monkeypatch.setattr(doc_reader.shutil, "which", lambda name: None)

    with pytest.raises(ConverterMissing) as caught:
        read_document(tmp_path / "r.doc")

    assert str(caught.value) == (
        f"{tmp_path / 'r.doc'}: reading old Word .doc files needs a converter and none is installed; "
        "install antiword (apt-get install antiword) or LibreOffice, or save the file as .docx in Word/WPS"
    )


# --- text files ----------------------------------------------------------------------------------------


def test_gbk_text_file(tmp_path):
    (tmp_path / "gbk 报告.txt").write_bytes("按照要求，本人认真查摆问题。\n以上请批评指正。".encode("gbk"))
    assert read_document(tmp_path / "gbk 报告.txt").text == "按照要求，本人认真查摆问题。\n以上请批评指正。"


# --- the same report in every format -------------------------------------------------------------------


def _found(report) -> tuple:
    """What a scan found, in terms that do not depend on the submission's format: sources, their spans, the text."""
    return sorted(
        (p.kind, Path(p.source.path).name, tuple(p.source_span), "".join(p.submission_text.split()))
        for p in report.passages
    )


def test_same_report_in_every_format_finds_the_same_passages(tmp_path, planted, corpus_without_base):
    text, _ = planted
    paragraphs = [line for line in text.split("\n") if line.strip()]
    (tmp_path / "utf8.txt").write_text(text, encoding="utf-8")
    (tmp_path / "gbk.txt").write_bytes(text.encode("gbk"))
    write_docx(tmp_path / "word.docx", paragraphs)
    write_pdf(tmp_path / "printed.pdf", paragraphs, header="某某局党委文件")

    found = _scan_each(tmp_path, corpus_without_base)

    assert found["utf8.txt"], "the planted passages should be found at all"
    assert {name: result == found["utf8.txt"] for name, result in found.items()} == dict.fromkeys(found, True)


def test_same_report_as_old_word_doc_finds_the_same_passages(tmp_path, planted, corpus_without_base):
    _require_converter()
    text, _ = planted
    (tmp_path / "utf8.txt").write_text(text, encoding="utf-8")
    write_doc(tmp_path / "old.doc", [line for line in text.split("\n") if line.strip()], tmp_path / "work")

    found = _scan_each(tmp_path, corpus_without_base)

    assert found["utf8.txt"] and found["old.doc"] == found["utf8.txt"]


def _scan_each(folder, corpus_path) -> dict:
    from detector import api

    with api.open_corpus(corpus_path) as corpus:
        return {path.name: _found(api.scan_document(corpus, read_document(path))) for path in sorted(folder.glob("*.*"))}


# --- OCR of scans (optional: tesseract-ocr, tesseract-ocr-chi-sim, poppler-utils) --------------------


def _require_ocr_tools():
    if not (shutil.which("tesseract") and shutil.which("pdftoppm")) or "chi_sim" not in ocr_reader._tesseract_languages():
        pytest.skip("OCR needs apt packages tesseract-ocr, tesseract-ocr-chi-sim, poppler-utils")
    if not Path("/usr/share/poppler/cMap").is_dir():
        pytest.skip("poppler-data is needed to render the Chinese sample before scanning it")


def test_scanned_pdf_read_with_ocr(tmp_path):
    _require_ocr_tools()
    paragraphs = ["按照市委统一部署，本人认真查摆问题，现将有关情况报告如下。", "一、存在的问题", "理论学习不够深入系统，联系实际不够紧密。"]
    write_image_only_pdf(tmp_path / "scan.pdf", write_pdf(tmp_path / "text.pdf", paragraphs, font_size=16))

    document = read_document(tmp_path / "scan.pdf", ocr=True)

    assert document.format == "pdf"
    assert len(document.text.split("\n")) == 3  # paragraphs kept apart, page number dropped
    assert difflib.SequenceMatcher(None, "\n".join(paragraphs), document.text).ratio() > 0.85


def test_ocr_without_tools_names_the_packages(tmp_path, monkeypatch):
    write_scanned_pdf(tmp_path / "scan.pdf")
    monkeypatch.setattr(ocr_reader.shutil, "which", lambda name: None)

    with pytest.raises(ConverterMissing) as caught:
        read_document(tmp_path / "scan.pdf", ocr=True)

    assert str(caught.value) == (
        f"{tmp_path / 'scan.pdf'}: OCR needs pdftoppm, tesseract, not installed; "
        "apt-get install tesseract-ocr tesseract-ocr-chi-sim poppler-utils"
    )


def test_ocr_flag_leaves_text_layer_pdfs_alone(tmp_path, monkeypatch):
    write_pdf(tmp_path / "text.pdf", ["按照要求，本人认真查摆问题。"])
    monkeypatch.setattr(ocr_reader, "ocr_pdf", None)  # calling it would fail the test
    assert read_document(tmp_path / "text.pdf", ocr=True).text == "按照要求，本人认真查摆问题。"


def test_pdf_printed_by_libreoffice_with_mixed_fonts(tmp_path):
    """Quotes and digits come in a Latin font, written apart from the Chinese runs: lines must still hold together."""
    program = soffice_or_skip()
    paragraphs = sample_paragraphs("002")
    write_docx(tmp_path / "r.docx", paragraphs, header="中共某某局委员会", footer="内部资料 注意保存")
    subprocess.run([program, f"-env:UserInstallation={(tmp_path / 'profile').as_uri()}", "--headless", "--convert-to", "pdf",
                    "--outdir", str(tmp_path), str(tmp_path / "r.docx")], check=True, capture_output=True, timeout=180)

    assert read_document(tmp_path / "r.pdf").text.split("\n") == [p.replace(" ", "") for p in paragraphs]


def test_pdf_rotated_watermark_and_fake_bold(tmp_path):
    reportlab_or_skip()
    from reportlab.pdfgen import canvas as pdf_canvas

    canvas = pdf_canvas.Canvas(str(tmp_path / "w.pdf"))
    canvas.setFont("STSong-Light", 16)
    for offset in (0, 0.3):  # how Chinese PDFs fake a bold heading
        canvas.drawString(100 + offset, 700, "对照检查材料")
    canvas.setFont("STSong-Light", 12)
    canvas.drawString(100, 660, "按照要求，本人认真查摆问题。")
    canvas.saveState()
    canvas.translate(300, 400)
    canvas.rotate(45)
    canvas.drawString(0, 0, "内部资料严禁外传")
    canvas.restoreState()
    canvas.save()

    assert read_document(tmp_path / "w.pdf").text == "对照检查材料\n按照要求，本人认真查摆问题。"
