"""The web page's server and JSON API over real HTTP: the same JSON as the CLI, tokens, CSRF, upload limits, escaping, source marks."""

from __future__ import annotations

import io
import json
import os
import re
import subprocess
import sys
import time
import urllib.parse
import zipfile
from pathlib import Path

import pytest
import urllib3
from click.testing import CliRunner
from web_helpers import sample_app, serving

from detector import api
from detector.cli import cli
from detector.report.html_report import source_marks
from detector.settings import WEB_MAX_FILES
from detector.web.app import create_app
from detector.web.security import is_loopback

SAMPLE = Path(__file__).resolve().parent.parent / "corpus" / "sample"
SEEDS = sorted(SAMPLE.glob("*.txt"))
DEMO = SAMPLE.parent / "demo" / "submission.txt"
PAYLOAD = '<script>window.__pwned=1;document.title="PWNED"</script><img src=x onerror="window.__pwned=2">'


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """One server for the module: a corpus of the five seeds (with the sample manifest), an archive folder, a private upload root."""
    base = tmp_path_factory.mktemp("web")
    db, app = sample_app(base)
    with serving(app) as url:
        yield type("Site", (), {"url": url, "db": db, "root": base / "uploads", "archive": base / "archive", "app": app})


def post(site, path, fields, headers=None):
    return urllib3.request("POST", site.url + path, fields=fields, headers=headers or {}, timeout=300, redirect=False)


def get(site, path, headers=None):
    return urllib3.request("GET", site.url + path, headers=headers or {}, timeout=60, redirect=False)


def files(*paths):
    return [("files", (p.name, p.read_bytes(), "text/plain")) for p in paths]


def cli_json(*args) -> dict:
    result = CliRunner().invoke(cli, list(map(str, args)))
    assert result.exit_code in (0, 3), result.output
    return json.loads(result.stdout)


# ---------------------------------------------------------------- the API answers what the CLI answers


def by_upload_name(ref: dict) -> dict:
    """A source as the upload names it: a batch peer by its file name, not the path given on the command line."""
    submitted = {str(p) for p in [*SEEDS, DEMO]}
    return {**ref, "path": Path(ref["path"]).name} if ref["path"] in submitted and ref["author"] is None else ref


def batch_peers_by_name(passages: list) -> list:
    return [{**p, "source": by_upload_name(p["source"]), "other_sources": [by_upload_name(o) for o in p["other_sources"]]}
            for p in passages]


def test_api_scan_gives_the_cli_passages_on_the_five_seeds(site):
    submitted = [*SEEDS, DEMO]
    answer = post(site, "/api/scan", files(*submitted))
    assert answer.status == 200, answer.data[:500]
    served = answer.json()
    expected = cli_json("scan", *submitted, "--db", site.db, "--format", "json")
    assert served["schema"] == expected["schema"] == "chachong/1"
    assert len(served["reports"]) == len(expected["reports"]) == 6
    assert sum(len(r["passages"]) for r in served["reports"]) > 0
    for mine, theirs in zip(served["reports"], expected["reports"]):
        assert mine["submission"]["path"] == Path(theirs["submission"]["path"]).name
        assert mine["passages"] == batch_peers_by_name(theirs["passages"])
        assert mine["metrics"] == theirs["metrics"] and mine["sources"] == [by_upload_name(s) for s in theirs["sources"]]
    assert served["url"] == f"/scans/{served['scan']['id']}/"


def test_api_compare_gives_the_cli_json(site):
    source = SAMPLE / "003_42e09aa36b9c46a6.txt"
    answer = post(site, "/api/compare", [("submission", (DEMO.name, DEMO.read_bytes())), ("source", (source.name, source.read_bytes()))])
    assert answer.status == 200
    served, expected = answer.json(), cli_json("compare", DEMO, source, "--format", "json")
    copied = [p for p in served["reports"][0]["passages"] if p["kind"] == "copied"]
    assert len(copied) == 3  # the demo submission carries three passages of seed 003
    named = [{**p, "source": {**p["source"], "path": Path(p["source"]["path"]).name}} for p in expected["reports"][0]["passages"]]
    assert served["reports"][0]["passages"] == named  # the same passages; the files are named as uploaded


def test_the_history_api_lists_and_returns_recorded_scans(site):
    scan = post(site, "/api/scan", files(DEMO)).json()
    listed = get(site, "/api/scans").json()["scans"]
    assert listed[0]["id"] == scan["scan"]["id"] and listed[0]["paths"] == ["submission.txt"]
    again = get(site, f"/api/scans/{scan['scan']['id']}").json()
    assert again["reports"] == scan["reports"] and again["schema"] == "chachong/1"
    assert get(site, "/api/scans/99999").status == 400


def test_downloads_of_a_scan(site):
    scan_id = post(site, "/api/scan", files(DEMO)).json()["scan"]["id"]
    results = get(site, f"/scans/{scan_id}/results.csv")
    out = Path(str(site.db) + f"-report-{scan_id}")
    CliRunner().invoke(cli, ["report", str(scan_id), "--db", str(site.db), "--out", str(out)])
    assert results.status == 200 and results.data == (out / "results.csv").read_bytes()  # what `chachong report` writes
    assert results.data.startswith(b"\xef\xbb\xbf") and "总文字复制比" in results.data.decode("utf-8-sig").splitlines()[0]
    assert "attachment" in results.headers["Content-Disposition"]
    assert get(site, f"/scans/{scan_id}/passages.csv").data.decode("utf-8-sig").count("\n") > 3
    assert json.loads(get(site, f"/scans/{scan_id}/results.json").data)["scan"]["id"] == scan_id


# ---------------------------------------------------------------- uploads


def test_uploads_are_private_and_gone_after_the_scan(site):
    assert (os.stat(site.root).st_mode & 0o777) == 0o700
    post(site, "/api/scan", files(DEMO))
    assert list(site.root.iterdir()) == []


def test_a_zip_of_a_folder_with_a_manifest_is_scanned_file_by_file(site):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("2024/张三.txt", DEMO.read_bytes())
        archive.writestr("../../escape.txt", DEMO.read_text(encoding="utf-8")[:2000])
        archive.writestr("2024/.hidden.txt", "x")
    manifest = "path,author,unit,year\r\n张三.txt,张三,某局,2024\r\n".encode("gbk")  # Excel's CSV on Chinese Windows
    served = post(site, "/api/scan", [("files", ("batch.zip", buffer.getvalue())), ("manifest", ("m.csv", manifest))]).json()
    paths = [r["submission"]["path"] for r in served["reports"]]
    assert paths == ["2024/张三.txt", "escape.txt"]  # '..' dropped: nothing lands outside the upload folder
    first = served["reports"][0]["submission"]
    assert (first["author"], first["unit"], first["year"]) == ("张三", "某局", 2024)


def test_a_zip_bomb_is_refused(site):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("big.txt", b"0" * (8 * 2**20))  # 8 MiB of zeros: compressed over 200:1
    answer = post(site, "/api/scan", [("files", ("bomb.zip", buffer.getvalue()))])
    assert answer.status == 400 and "zip bomb" in answer.json()["error"]


def test_too_many_files_are_refused(site):
    answer = post(site, "/api/scan", [("files", (f"{n}.txt", "甲乙丙丁".encode())) for n in range(WEB_MAX_FILES + 1)])
    assert answer.status == 400 and f"at most {WEB_MAX_FILES}" in answer.json()["error"]
    assert list(site.root.iterdir()) == []


def test_an_unreadable_file_is_reported_and_the_others_scanned(site):
    served = post(site, "/api/scan", [*files(DEMO), ("files", ("broken.docx", b"not a zip"))]).json()
    assert served["reports"][0]["passages"] and "docx" in served["reports"][1]["error"]


# ---------------------------------------------------------------- security


def test_post_forms_need_the_csrf_token(site):
    answer = post(site, "/archive/1/meta", {"author": "某人"})
    message = re.search(r'id="error-message">(.*?)</p>', answer.data.decode("utf-8")).group(1)
    assert answer.status == 400 and message.index("表单已过期") < message.index("CSRF")  # Chinese first, English beside
    with api.open_corpus(site.db) as corpus:
        assert api.list_documents(corpus)[0][2].author == "局长甲"


def test_requests_from_other_sites_and_hosts_are_refused(site):
    assert post(site, "/api/scan", files(DEMO), headers={"Origin": "http://evil.example"}).status == 403
    assert post(site, "/api/scan", files(DEMO), headers={"Sec-Fetch-Site": "cross-site"}).status == 403
    assert get(site, "/scan", headers={"Host": "evil.example"}).status == 403  # DNS rebinding
    assert get(site, "/scan", headers={"Host": "localhost"}).status == 200


def test_a_non_loopback_address_needs_a_token(site):
    assert is_loopback("127.0.0.1") and is_loopback("localhost") and is_loopback("::1") and not is_loopback("0.0.0.0")
    with pytest.raises(ValueError, match="token is required"):
        create_app(site.db, host="0.0.0.0")
    app = create_app(site.db, host="0.0.0.0", token="s3cret-token", upload_root=site.root.parent / "other-uploads")
    client = app.test_client()
    assert client.get("/scan").status_code == 401
    assert client.get("/api/scans").status_code == 401
    assert client.get("/api/scans", headers={"Authorization": "Bearer wrong"}).status_code == 401
    assert client.get("/api/scans", headers={"Authorization": "Bearer s3cret-token"}).status_code == 200
    assert client.get("/scan?token=s3cret-token").status_code == 200
    assert client.get("/archive").status_code == 200  # the token cookie set by the first visit


def test_serve_on_a_non_loopback_address_prints_a_token_and_refuses_requests_without_it(site, tmp_path):
    port = _free_port()
    command = [sys.executable, "-m", "detector", "serve", "--db", str(site.db), "--host", "0.0.0.0", "--port", str(port)]
    server = subprocess.Popen(command, stderr=subprocess.PIPE, text=True)
    try:
        banner = "".join(server.stderr.readline() for _ in range(3))
        token = re.search(r"token: (\S+)", banner).group(1)
        url = f"http://127.0.0.1:{port}/api/scans"
        _wait_for(url)
        assert urllib3.request("GET", url, timeout=10).status == 401
        assert urllib3.request("GET", url, headers={"Authorization": f"Bearer {token}"}, timeout=10).status == 200
    finally:
        server.terminate()
        server.wait(timeout=10)


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_for(url: str) -> None:
    for _ in range(100):
        try:
            urllib3.request("GET", url, timeout=1, retries=False)
            return
        except urllib3.exceptions.HTTPError:
            time.sleep(0.1)


def test_every_page_says_no_to_network_resources_and_inline_scripts(site):
    answer = get(site, "/scan")
    policy = answer.headers["Content-Security-Policy"]
    assert "default-src 'none'" in policy and "script-src 'self'" in policy
    assert not re.search(r"(src|href)=\"?(https?:)?//", answer.data.decode("utf-8"))


# ---------------------------------------------------------------- hostile text (the browser test runs it too)


def test_hostile_names_and_text_are_escaped_on_every_page(site):
    name = f"x{PAYLOAD}.txt".replace("/", "")
    text = DEMO.read_text(encoding="utf-8")[:3000] + PAYLOAD
    served = post(site, "/api/scan", [("files", (name, text.encode("utf-8"))), ("author", PAYLOAD)]).json()
    scan_id = served["scan"]["id"]
    pages = ["/history", f"/scans/{scan_id}/", f"/scans/{scan_id}/s001.html", "/archive?author=" + urllib.parse.quote("<script>"),
             "/jobs/nosuchjob"]
    for page in pages:
        html = get(site, page).data.decode("utf-8")
        assert "<script>window.__pwned" not in html and "<img src=x" not in html, page
    assert "&lt;script&gt;window.__pwned" in get(site, f"/scans/{scan_id}/s001.html").data.decode("utf-8")


# ---------------------------------------------------------------- side by side


def test_source_marks_are_the_source_characters_found_in_the_submission_in_order():
    submission = "本人深入学习了党的二十大精神，并扎实推进各项工作。"
    source = "我们要深入学习贯彻党的二十大精神，扎实推进工作。"
    pieces = source_marks(source, submission)
    assert "".join(p["text"] for p in pieces) == source
    marked = [p["text"] for p in pieces if p["matched"]]
    assert marked == ["深入学习", "党的二十大精神，", "扎实推进", "工作。"]
    at = 0
    for text in marked:  # each marked run stands in the submission, in the same order
        at = submission.index(text, at) + len(text)
    assert all(source[p["start"]:p["end"]] == p["text"] for p in pieces)


# ---------------------------------------------------------------- archive: the writer lock, the last rebuild


def _csrf(client, path: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', client.get(path).data.decode("utf-8")).group(1)


def test_corrections_and_removals_wait_for_the_writer_lock(site):
    from detector.locking import writer_lock

    client = site.app.test_client()
    token = _csrf(client, "/archive")
    with writer_lock(site.db, "rebuild"):
        answer = client.post("/archive/1/meta", data={"csrf_token": token, "author": "某人"})
        assert answer.status_code == 409 and "is writing this index" in answer.data.decode("utf-8")
        assert client.post("/archive/1/remove", data={"csrf_token": token}).status_code == 409
    with api.open_corpus(site.db) as corpus:
        rows = api.list_documents(corpus)
    assert rows[0][0] == 1 and rows[0][2].author == "局长甲"


def test_the_archive_page_shows_the_last_rebuild_and_its_log(site, tmp_path):
    log = tmp_path / "rebuild.log"
    log.write_text("2020-01-01 02:00:00 chachong INFO lock: holding old\n2020-01-01 02:00:01 chachong INFO done: old run\n",
                   encoding="utf-8")
    with log.open("a", encoding="utf-8") as handle:
        subprocess.run([sys.executable, "-m", "detector", "rebuild", "--db", str(site.db), "--from", str(SAMPLE)],
                       stderr=handle, stdout=subprocess.DEVNULL, check=True)
    app = create_app(site.db, upload_root=site.root.parent / "log-uploads", rebuild_log=log)
    page = app.test_client().get("/archive").data.decode("utf-8")
    shown = re.search(r'<pre class="log" id="rebuild-log">(.*?)</pre>', page, re.S).group(1)
    assert "lock: holding" in shown and "done:" in shown and "old run" not in shown  # the last run only
    assert 'id="last-rebuild">' in page and "增量 incremental" in page


def test_chachong_help_loads_no_web_framework():
    probe = "import sys; from detector.cli import cli; print(sorted(m for m in sys.modules if m.split('.')[0] in ('flask', 'werkzeug', 'waitress')))"
    assert subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout.strip() == "[]"


def test_hostile_text_in_an_error_message_is_escaped(site):
    client = site.app.test_client()
    token = _csrf(client, "/scan")
    answer = client.post("/scan", data={"csrf_token": token, "year": PAYLOAD, "files": (io.BytesIO(DEMO.read_bytes()), "a.txt")},
                         content_type="multipart/form-data")
    page = answer.data.decode("utf-8")
    assert answer.status_code == 400 and "is not a year" in page
    assert "<script>window.__pwned" not in page and "&lt;script&gt;window.__pwned" in page
    assert list(site.root.iterdir()) == []


def test_files_added_to_the_archive_are_kept_there_and_indexed(site):
    text = DEMO.read_text(encoding="utf-8").replace("按照", "根据", 1)  # new content, not yet in the corpus
    fields = [("files", ("李四2024.txt", text.encode("utf-8"))), ("author", "李四"), ("add_to_archive", "1")]
    assert post(site, "/api/scan", fields).status == 200
    kept = list((site.archive / "web-uploads").glob("*/李四2024.txt"))
    assert len(kept) == 1 and kept[0].read_text(encoding="utf-8") == text
    with api.open_corpus(site.db) as corpus:
        added = [m for _, p, m in api.list_documents(corpus) if p == str(kept[0].resolve())]
    assert len(added) == 1 and added[0].author == "李四"
    assert list(site.root.iterdir()) == []


def test_the_scan_form_answers_with_a_progress_page_then_the_result(site):
    client = site.app.test_client()
    token = _csrf(client, "/scan")
    answer = client.post("/scan", data={"csrf_token": token, "files": (io.BytesIO(DEMO.read_bytes()), "a.txt")},
                         content_type="multipart/form-data")
    assert answer.status_code == 303 and answer.location.startswith("/jobs/")
    job_id = answer.location.rsplit("/", 1)[1]
    for _ in range(600):
        state = client.get(f"/api/jobs/{job_id}").get_json()
        if state["state"] not in ("queued", "running"):
            break
        page = client.get(answer.location)
        assert page.status_code == 303 or b'<progress id="job-progress"' in page.data
        time.sleep(0.05)
    assert state["state"] == "done" and state["url"] == f"/scans/{state['scan_id']}/"
    assert client.get(answer.location).location == state["url"]


def test_a_scan_is_ranked_by_the_measure_asked_for(site):
    scan_id = post(site, "/api/scan", files(*SEEDS, DEMO)).json()["scan"]["id"]
    for key in ("copy_ratio", "self_reuse_ratio"):
        page = get(site, f"/scans/{scan_id}/?rank_by={key}").data.decode("utf-8")
        shown = [float(v) for v in re.findall(r'data-rank-measure="([0-9.e-]+)"', page)]
        assert shown and shown == sorted(shown, reverse=True)
        assert f'/scans/{scan_id}/results.csv?rank_by={key}' in page
    assert get(site, f"/scans/{scan_id}/?rank_by=nonsense").status == 400


def test_serve_without_a_corpus_says_how_to_make_one(tmp_path):
    result = CliRunner().invoke(cli, ["serve", "--db", str(tmp_path / "nosuch.db")])
    assert result.exit_code == 1 and "chachong add" in result.output and "nosuch.db" in result.output
    assert CliRunner().invoke(cli, ["serve", "--db", str(tmp_path / "x.db"), "--token", " "]).exit_code == 2


def test_library_errors_show_in_chinese_with_the_english_beside(site):
    page = site.app.test_client().get("/scans/99999/").data.decode("utf-8")
    message = re.search(r'id="error-message">(.*?)</p>', page).group(1)
    assert message.index("没有编号为 99999 的扫描") < message.index("no scan with id 99999")


def test_the_page_on_a_redis_corpus(redis_cluster, tmp_path):
    """`chachong serve --db redis://…`: scans and corrections through the Redis store and its writer lock."""
    url = redis_cluster.url(f"web-{os.getpid()}-{time.monotonic_ns()}")
    with api.open_corpus(url, create=True) as corpus:
        api.add_paths(corpus, [], manifest=SAMPLE / "manifest.csv")
    client = create_app(url, upload_root=tmp_path / "uploads").test_client()
    served = client.post("/api/scan", data={"files": (io.BytesIO(DEMO.read_bytes()), DEMO.name)}, content_type="multipart/form-data")
    assert served.status_code == 200 and [p for p in served.get_json()["reports"][0]["passages"] if p["kind"] == "copied"]
    answer = client.post("/archive/1/meta", data={"csrf_token": _csrf(client, "/archive"), "author": "更正"})
    assert answer.status_code == 303
    with api.open_corpus(url) as corpus:
        assert dict((i, m) for i, _, m in api.list_documents(corpus))[1].author == "更正"


def test_a_file_that_cannot_be_decoded_says_what_to_do_on_the_page_not_on_the_command_line(site):
    served = post(site, "/api/scan", [*files(DEMO), ("files", ("乱码.txt", bytes(range(256)) * 7 + b"\x00"))]).json()
    [error] = [report["error"] for report in served["reports"] if report.get("error")]
    assert "--encoding" not in error and "upload it again" in error, error
    page = site.app.test_client().get(served["url"]).data.decode("utf-8")
    assert "--encoding" not in page and "编码选 UTF-8" in page and "重新上传" in page
    compared = post(site, "/api/compare", [("submission", ("乱码.txt", bytes(range(256)) * 7 + b"\x00")),
                                           ("source", (DEMO.name, DEMO.read_bytes()))])
    error = compared.json()["error"]
    assert compared.status == 400 and "upload it again" in error and "--encoding" not in error, error
