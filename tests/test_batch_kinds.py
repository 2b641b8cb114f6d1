"""Kinds and sources in a batch: colleagues who copied one archived report have copied it, from it; batch-mates alone make a template."""

from __future__ import annotations

import re

from detector import api
from detector.model import DocumentMeta
from planting import BASE, SAMPLE, SOURCE


def _paragraphs(path, count: int) -> list[str]:
    return [p for p in path.read_text(encoding="utf-8").splitlines() if len(re.sub(r"\s", "", p)) >= 60][:count]


def _own(path, skip: int) -> str:
    return "\n".join(_paragraphs(path, skip + 5)[skip:])


def _scan(tmp_path, archive: list, submissions: dict):
    with api.open_corpus(tmp_path / "c.db", create=True) as corpus:
        api.add_texts(corpus, archive)
        folder = tmp_path / "batch"
        folder.mkdir()
        rows = ["path,author,unit,year"]
        for name, (author, text) in submissions.items():
            (folder / name).write_text(text, encoding="utf-8")
            rows.append(f"{name},{author},{author}单位,2024")
        (folder / "manifest.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
        result = api.scan_batch(corpus, [str(folder)], manifest=str(folder / "manifest.csv"))
    return {report.submission.path.rsplit("/", 1)[-1]: report for report in result.reports}


def _kinds_over(report, text: str) -> set:
    start = report.submission.text.index(text[:40])
    end = start + len(text)
    return {p.kind for p in report.passages if p.submission_span[0] < end and p.submission_span[1] > start}


def test_two_colleagues_copying_one_archived_report_have_both_copied_it(tmp_path):
    copied = "\n".join(_paragraphs(SOURCE, 4))
    others = [p for p in sorted(SAMPLE.glob("*.txt")) if p not in (SOURCE, BASE)]
    archive = [("archive/2023/干部丁.txt", SOURCE.read_text(encoding="utf-8"), DocumentMeta(author="干部丁", unit="丁单位", year=2023))]
    reports = _scan(tmp_path, archive, {"王五.txt": ("王五", _own(BASE, 0) + "\n" + copied + "\n" + _own(others[0], 0)),
                                        "赵六.txt": ("赵六", _own(others[1], 0) + "\n" + copied + "\n" + _own(others[2], 0))})
    for name in ("王五.txt", "赵六.txt"):
        assert _kinds_over(reports[name], copied) == {"copied"}, (name, _kinds_over(reports[name], copied))
        assert reports[name].metrics["other_authors_ratio"] > 0.15  # the copied paragraphs count as copied from a person


def test_a_text_only_batch_mates_carry_is_still_a_template(tmp_path):
    template = "\n".join(_paragraphs(SOURCE, 3))
    others = [p for p in sorted(SAMPLE.glob("*.txt")) if p not in (SOURCE, BASE)]
    archive = [("archive/2023/other.txt", others[0].read_text(encoding="utf-8"), DocumentMeta(author="某人", year=2023))]
    bodies = {f"{author}.txt": (author, _own(path, 6) + "\n" + template) for author, path in
              zip(("甲", "乙", "丙"), (BASE, others[1], others[2]))}
    reports = _scan(tmp_path, archive, bodies)
    for name in bodies:
        assert _kinds_over(reports[name], template) == {"template"}, (name, _kinds_over(reports[name], template))


def test_colleagues_who_copied_an_archived_report_name_it_not_one_another(tmp_path):
    copied = SOURCE.read_text(encoding="utf-8")[96:780]  # three whole paragraphs
    others = [p for p in sorted(SAMPLE.glob("*.txt")) if p not in (SOURCE, BASE)]
    shared = "\n".join(_paragraphs(others[2], 3))  # what else the copiers share (no archived report holds it)
    archive = [("archive/2023/干部丁.txt", copied, DocumentMeta(author="干部丁", unit="丁单位", year=2023))]
    # each copier matches more of the others (the copy and the shared text) than of the report they all copied
    writers = zip(("王五", "赵六", "钱七", "孙八"), (BASE, others[0], others[1], BASE), (0, 0, 0, 10))
    bodies = {f"{author}.txt": (author, "\n".join([_own(path, skip), copied, _own(path, skip + 5), shared]))
              for author, path, skip in writers}
    reports = _scan(tmp_path, archive, bodies)
    for name, report in reports.items():
        start = report.submission.text.index(copied[:40])
        named = [(p.kind, p.source.path) for p in report.passages
                 if p.submission_span[0] < start + len(copied) and p.submission_span[1] > start]
        assert named and all(path.endswith("干部丁.txt") for _, path in named), (name, named)


def test_an_authors_reuse_of_his_archived_report_stays_his_own_when_colleagues_copied_it_too(tmp_path):
    reused = "\n".join(_paragraphs(SOURCE, 4))
    others = [p for p in sorted(SAMPLE.glob("*.txt")) if p not in (SOURCE, BASE)]
    archive = [("archive/2023/张三.txt", SOURCE.read_text(encoding="utf-8"), DocumentMeta(author="张三", unit="张三单位", year=2023))]
    reports = _scan(tmp_path, archive, {"张三.txt": ("张三", reused + "\n" + _own(BASE, 0)),
                                        "李四.txt": ("李四", _own(others[0], 0) + "\n" + reused),
                                        "王五.txt": ("王五", _own(others[1], 0) + "\n" + reused)})
    assert _kinds_over(reports["张三.txt"], reused) == {"self_reuse"}, _kinds_over(reports["张三.txt"], reused)
    for name in ("李四.txt", "王五.txt"):
        assert _kinds_over(reports[name], reused) == {"copied"}, (name, _kinds_over(reports[name], reused))


def test_colleagues_copying_one_archived_report_have_copied_it_when_their_reports_are_filed_already(tmp_path):
    copied = "\n".join(_paragraphs(SOURCE, 4))
    others = [p for p in sorted(SAMPLE.glob("*.txt")) if p not in (SOURCE, BASE)]
    bodies = {"王五.txt": ("王五", _own(BASE, 0) + "\n" + copied + "\n" + _own(others[0], 0)),
              "赵六.txt": ("赵六", _own(others[1], 0) + "\n" + copied + "\n" + _own(others[2], 0))}
    archive = [("archive/2023/干部丁.txt", SOURCE.read_text(encoding="utf-8"), DocumentMeta(author="干部丁", unit="丁单位", year=2023))]
    # this year's reports filed in the archive before the batch is scanned (or re-checked): still the batch's own
    archive += [(f"archive/2024/{name}", text, DocumentMeta(author=author, unit=author + "单位", year=2024))
                for name, (author, text) in bodies.items()]
    reports = _scan(tmp_path, archive, bodies)
    for name in bodies:
        assert _kinds_over(reports[name], copied) == {"copied"}, (name, _kinds_over(reports[name], copied))


def test_a_sentence_kind_is_the_same_when_the_batch_is_filed_already(tmp_path):
    sentence = "我们要把解决群众急难愁盼问题作为检验工作成效的重要标尺。"
    others = [p for p in sorted(SAMPLE.glob("*.txt")) if p not in (SOURCE, BASE)]
    archive = [("archive/2023/乙.txt", _own(others[0], 0) + "\n" + sentence, DocumentMeta(author="乙", year=2023))]
    bodies = {"甲.txt": ("甲", _own(BASE, 0) + "\n" + sentence), "丙.txt": ("丙", _own(others[1], 0) + "\n" + sentence)}
    filed = [(f"archive/2024/{name}", text, DocumentMeta(author=author, unit=author + "单位", year=2024))
             for name, (author, text) in bodies.items()]
    kinds = []
    for n, stored in enumerate((archive, archive + filed)):  # a filed report is counted once, and not as its own carrier
        (tmp_path / str(n)).mkdir()
        report = _scan(tmp_path / str(n), stored, bodies)["甲.txt"]
        start = report.submission.text.index(sentence)
        kinds.append({p.kind for p in report.passages if start <= p.submission_span[0] < start + len(sentence)})
    assert kinds[0] == kinds[1] == {"copied"}, kinds
