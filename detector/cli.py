"""The `chachong` command: parse options, call one library function, render; library errors become exit codes here."""

from __future__ import annotations

import contextlib
import enum
import functools
import json
import logging
import os
import signal
import sys
import threading

import importlib

import click

from detector import __version__, messages
from detector.errors import DetectorError, IndexLocked, Stopped, storage_error
from detector.model import DocumentMeta
from detector.paths import shown, shown_target, shown_text
from detector.labels import DEFAULT_RANKING, RANKING_MEASURES
from detector.settings import DEFAULT, HISTORY_WAIT_SECONDS, MAX_YEAR, MIN_YEAR


class _Lazy:
    """A module imported on first use: `chachong --help` and `compare` load only what they need."""

    def __init__(self, name: str):
        self._name = name

    def __getattr__(self, attr):
        return getattr(importlib.import_module(self._name), attr)


api, history, _report = _Lazy("detector.api"), _Lazy("detector.history"), _Lazy("detector.report")


class ExitCode(enum.IntEnum):
    """Exit codes are an interface: scripts and cron jobs read them."""

    OK = 0  # nothing above --fail-above
    ERROR = 1  # a file or the database could not be used
    USAGE = 2  # wrong options (click's own code)
    FINDINGS = 3  # at least one submission above --fail-above
    LOCKED = 4  # another process (rebuild, add, remove, meta edits) is writing the index; nothing was changed


def _remember_db(ctx, param, value):
    ctx.meta["chachong.db"] = value  # named in the message of an SQLite or OS error
    return value


def _db_option(f):
    return click.option("--db", "db_path", required=True, type=click.Path(dir_okay=False), callback=_remember_db,
                        help="The corpus database (SQLite file).")(f)


def _measure_options(f, ranks: bool = True):
    """--rank-by and --fail-measure: which measure ranks a batch (`ranks`: a command with more than one submission)
    and which one --fail-above tests."""
    choice = click.Choice(RANKING_MEASURES)
    if ranks:
        f = click.option("--rank-by", type=choice, default=DEFAULT_RANKING, show_default=True, expose_value=False,
                         callback=_remember("rank_by"),
                         help="Rank a batch by this measure (去除本人复制比 by default; 本人旧稿 is shown in its own column).")(f)
    f = click.option("--fail-measure", type=choice, default=DEFAULT_RANKING, show_default=True, expose_value=False,
                     callback=_remember("fail_measure"), help="The measure --fail-above tests.")(f)
    return click.option("--fail-above", type=click.FloatRange(0, 1), default=None,
                        help="Exit with code 3 when a submission's --fail-measure is above this (0–1).")(f)


def _remember(key: str):
    def remember(ctx, param, value):
        ctx.meta[f"chachong.{key}"] = value
    return remember


def _chosen(key: str) -> str:
    """The measure chosen with --rank-by / --fail-measure (the default where the command has no such option)."""
    return click.get_current_context().meta.get(f"chachong.{key}", DEFAULT_RANKING)


def _output_options(f, ranks: bool = True):
    f = click.option("--show-formulae", is_flag=True, help="List short official formulae too (text format).")(f)
    f = _measure_options(f, ranks)
    f = click.option("--format", "fmt", type=click.Choice(["json", "text"]), default="text", show_default=True,
                     help="Output format.")(f)
    return f


def _out_option(f):
    return click.option("--out", "out_dir", type=click.Path(file_okay=False), default=None,
                        help="Write index.html, a page per submission, results.csv, passages.csv and results.json to this folder.")(f)


def _remember_ocr(ctx, param, value):
    ctx.meta["chachong.ocr"] = value


def _reading_settings(settings):
    """Settings with the reading options of the command line (--ocr) applied."""
    return settings.replace(ocr=True) if click.get_current_context().meta.get("chachong.ocr") else settings


def _workers_option(f):
    return click.option("--workers", type=click.IntRange(min=1), default=None,
                        help="Read and scan in this many processes (default: one per core, at most 4). The reports are "
                             "the same.")(f)


def _workers(given: int | None) -> int:
    """The processes a batch runs in: as given, else one per core (at most SCAN_MAX_WORKERS)."""
    from detector.batch import default_workers  # imported here: `chachong --help` loads no scanning code

    return given or default_workers()


def _encoding_option(f):
    f = click.option("--ocr", is_flag=True, expose_value=False, callback=_remember_ocr,
                     help="Read scanned PDFs with OCR (needs tesseract-ocr and tesseract-ocr-chi-sim).")(f)
    return click.option("--encoding", default=None, help="Force the encoding of text files (e.g. gbk); default: detect.")(f)


class _Commands(click.Group):
    """The commands: an SQLite or OS error anywhere in one is a one-line message and exit code 1, never a traceback."""

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except Exception as err:  # noqa: BLE001 - only the storage drivers' and the OS's errors are caught
            if isinstance(err, BrokenPipeError) and _output_gone():  # `chachong scans | head`: the reader has gone
                _discard_output()
                sys.exit(ExitCode.ERROR)
            if not isinstance(err, _storage_errors()):
                raise
            click.echo(messages.say("error", message=storage_error(err, ctx.meta.get("chachong.db"))), err=True)
            sys.exit(ExitCode.ERROR)


def _output_gone() -> bool:
    """Whether standard output is a pipe nobody reads any more (its reader exited): nothing is wrong with the disk."""
    import select

    try:
        poller = select.poll()
        poller.register(sys.stdout.fileno(), select.POLLOUT)
        return any(events & select.POLLERR for _, events in poller.poll(0))
    except (AttributeError, OSError, ValueError):
        return False


def _discard_output() -> None:
    """Send what is left of standard output nowhere, so that the exit's own flush meets no closed pipe either."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    os.close(devnull)


def _storage_errors() -> tuple:
    from detector.store import driver_errors  # the store knows its drivers' exception types; nothing else names them

    return (*driver_errors(), OSError)


@click.group(cls=_Commands, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="chachong")
@click.option("--lang", type=click.Choice(messages.LANGUAGES), default=None,
              help="Language of messages and the text report (default: zh when LANG/LC_ALL is zh_*, else en).")
def cli(lang):
    """chachong (查重): find copied, templated and self-reused passages in 民主生活会 reports."""
    messages.set_language(lang)


_YEAR = click.IntRange(MIN_YEAR, MAX_YEAR)


def _remember_allow_outside(ctx, param, value):
    ctx.meta["chachong.allow_outside"] = value


def _allow_outside_option(f):
    return click.option("--allow-outside", is_flag=True, expose_value=False, callback=_remember_allow_outside,
                        help="Let manifest paths lie outside the manifest's folder (refused by default).")(f)


def _manifest(csv_path):
    """The manifest's metadata per file (read here so that a wrong row stops the command before it starts)."""
    if not csv_path:
        return {}
    from detector.ingest.manifest import read_manifest

    allow = bool(click.get_current_context().meta.get("chachong.allow_outside"))
    return _call(read_manifest, csv_path, allow_outside=allow)


def _meta_options(f):
    """Who wrote the files and when: for every file, or per file from a manifest; what is not given is inferred."""
    f = click.option("--manifest", type=click.Path(dir_okay=False), default=None,
                     help="CSV (UTF-8, GBK or UTF-16, as Excel saves it) with header path,author,unit,year[,meeting,team]; "
                          "paths relative to the CSV's folder.")(f)
    f = click.option("--team/--personal", "team", default=None, help="Team (班子) reports, or personal ones.")(f)
    f = click.option("--meeting", default=None, help="Meeting they were written for: 民主生活会, 组织生活会 or other.")(f)
    f = _allow_outside_option(f)
    f = click.option("--year", type=_YEAR, default=None, help="Year the files were written for.")(f)
    f = click.option("--unit", default=None, help="Unit (单位) of the files.")(f)
    return click.option("--author", default=None, help="Author of the files.")(f)


@cli.command()
@click.argument("paths", nargs=-1, type=click.Path())
@_db_option
@_meta_options
@_encoding_option
@click.option("--max-file-mb", type=click.FloatRange(min=0.001), default=None, help="Refuse larger files (default 50).")
def add(paths, db_path, author, unit, year, meeting, team, manifest, encoding, max_file_mb):
    """Add report files (or folders, walked recursively) to the corpus. Adding the same file twice does nothing.

    Metadata not given is inferred from the text and file name (2023年度, 局党组…民主生活会) and marked as
    inferred; `chachong meta` shows and corrects it.
    """
    if not paths and not manifest:
        raise click.UsageError("name files or folders to add, or --manifest CSV")
    _must_exist(paths)
    meta = _given_meta(author=author, unit=unit, year=year, meeting=meeting, team=team)
    with _open(db_path, create=True, max_file_mb=max_file_mb) as corpus, _writing(corpus, "add"):
        summary = _call(api.add_paths, corpus, paths, meta=meta, manifest=_manifest(manifest), encoding=encoding,
                        progress=_progress())
    _echo_problems(summary.failed, summary.skipped)
    click.echo(messages.say("added", added=len(summary.added), present=len(summary.duplicates), failed=len(summary.failed)))
    sys.exit(ExitCode.ERROR if summary.failed else ExitCode.OK)


@cli.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path())
@_db_option
@_output_options
@_meta_options
@_encoding_option
@_out_option
@click.option("--timings", is_flag=True, help="Print the time each scan stage took (per submission) on stderr.")
@_workers_option
def scan(paths, db_path, fmt, fail_above, show_formulae, author, unit, year, meeting, team, manifest, encoding, out_dir,
         timings, workers):
    """Scan submissions (files or folders) against the corpus and against each other; the scan is recorded in the database.

    Give the submissions' authors (--author … or --manifest) so that reuse of their own earlier reports is
    told apart (self_reuse); otherwise authors are inferred from the text where it names them.
    """
    options = {"encoding": encoding, "fail_above": fail_above, "out": out_dir}
    meta = _given_meta(author=author, unit=unit, year=year, meeting=meeting, team=team)
    with _open(db_path, create=False) as corpus:
        _must_exist(paths)  # after the database: a wrong --db is said first
        clock = api.Timings()
        result = _call(api.scan_batch, corpus, paths, encoding=encoding, progress=_progress(), meta=meta,
                       manifest=_manifest(manifest), timings=clock, workers=_workers(workers))
        _echo_problems([], result.skipped)
        if timings:
            click.echo("\n".join(clock.lines()), err=True)
        written = _deliver(corpus, result, fmt, show_formulae, out_dir, options)
    _exit(result.reports, fail_above, written)


@cli.command()
@click.argument("submission", type=click.Path())
@click.argument("source", type=click.Path())
@functools.partial(_output_options, ranks=False)  # two files: nothing to rank
@_encoding_option
@_out_option
def compare(submission, source, fmt, fail_above, show_formulae, encoding, out_dir):
    """Compare two files: passages of SUBMISSION reused from SOURCE.

    With --out, also the side-by-side page (the text of a .docx or .pdf as read, the passages marked at the offsets
    shown), results.csv, passages.csv and results.json.
    """
    _must_exist([submission, source])
    report = _call(api.compare_paths, submission, source, encoding=encoding, settings=_reading_settings(DEFAULT))
    _show([report], fmt, show_formulae)
    _exit([report], fail_above, _write_comparison(report, out_dir))


def _write_comparison(report, out_dir) -> bool:
    """compare --out: the report folder of one comparison (written atomically, file by file); an error is one line."""
    if not out_dir:
        return True
    from detector.report.view import compare_view  # only here: compare without --out starts as fast as before

    written = _write_reports(compare_view(report), out_dir)
    if written:
        click.echo(messages.say("compare_written", path=shown(os.path.join(out_dir, "index.html"))), err=True)
    return written


@cli.command()
@_db_option
@click.argument("out", type=click.Path())
def backup(db_path, out):
    """Copy the database to OUT (a file, or a folder to put it in), consistent while scans and rebuilds run.

    SQLite's online backup: one snapshot, written owner-only under a temporary name and renamed.
    """
    written = _call(api.backup, db_path, out)
    click.echo(messages.say("backed_up", db=shown_target(db_path), out=shown(written)))


@cli.command()
@_db_option
def check(db_path):
    """Check a database: SQLite's integrity check and the index's own consistency (postings ↔ documents, segment
    counts, segment document frequencies, recorded settings). Exit code 1 and one line per problem when broken."""
    problems = _call(api.check, db_path)
    for problem in problems:
        click.echo(messages.say("problem", message=problem))
    db = shown_target(db_path)
    click.echo(messages.say("check_problems", db=db, n=len(problems)) if problems else messages.say("check_ok", db=db))
    sys.exit(ExitCode.ERROR if problems else ExitCode.OK)


@cli.command()
@_db_option
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
def stats(db_path, fmt):
    """Counts and sizes of a corpus database, and the settings it was built with."""
    with _open(db_path, create=False) as corpus:
        numbers = api.stats(corpus)
    if fmt == "json":
        click.echo(json.dumps(numbers, ensure_ascii=False, indent=2))
        return
    for key, value in numbers.items():
        shown_value = json.dumps(value, ensure_ascii=False) if isinstance(value, (dict, list)) else value
        click.echo(f"{_padded(messages.stats_label(key), 17)}{shown_value}")


# ---------------------------------------------------------------- scan history


@cli.command()
@_db_option
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
def scans(db_path, fmt):
    """List the scans recorded in the database, newest first."""
    with _open(db_path, create=False) as corpus:
        recorded = _call(history.list_scans, corpus.store)
    if fmt == "json":
        click.echo(json.dumps([s.as_dict() for s in recorded], ensure_ascii=False, indent=2))
        return
    for s in recorded:
        top = "–" if s.max_copy_ratio is None else f"{s.max_copy_ratio:.1%}"
        again = messages.say("recheck_of", id=s.rechecks) if s.rechecks else ""
        click.echo(messages.say("scan_line", id=s.id, time=s.local_time, files=s.files, failed=s.failed, top=top,
                                clusters=s.clusters, paths=" ".join(s.paths), again=again))


@cli.command()
@click.argument("scan_id", type=int)
@_db_option
@click.option("--out", "out_dir", type=click.Path(file_okay=False), required=True, help="Folder to write the reports to.")
@click.option("--rank-by", type=click.Choice(RANKING_MEASURES), default=DEFAULT_RANKING, show_default=True,
              help="Rank the submissions by this measure.")
def report(scan_id, db_path, out_dir, rank_by):
    """Write the reports of a recorded scan again (index.html, pages, CSV, JSON), as they were when it ran."""
    with _open(db_path, create=False) as corpus:
        view = _call(history.view, corpus.store, scan_id, rank_by=rank_by)
    if not _write_reports(view, out_dir):
        sys.exit(ExitCode.ERROR)
    click.echo(messages.say("reports_written", id=scan_id, path=shown(os.path.join(out_dir, "index.html"))), err=True)
    click.echo(_report.render_summary(view, colour=sys.stdout.isatty()))


@cli.command()
@click.argument("scan_id", type=int)
@_db_option
@_out_option
@_measure_options
@_workers_option
def recheck(scan_id, db_path, out_dir, fail_above, workers):
    """Scan the submissions of a recorded scan again, against the corpus as it is now; recorded as a new scan."""
    with _open(db_path, create=False) as corpus:
        result = _call(history.recheck, corpus, scan_id, progress=_progress(), workers=_workers(workers))
        written = _deliver(corpus, result, "text", False, out_dir, {"out": out_dir}, rechecks=scan_id)
    _exit(result.reports, fail_above, written)


def _deliver(corpus, result, fmt: str, show_formulae: bool, out_dir, options: dict, rechecks=None) -> bool:
    """A scan's results first (printed, reports written), then its history record: it never loses them to the history.

    Once recorded, the reports are written again as `chachong report` writes them (with the scan's number). A batch
    the store stopped (result.stopped) says so, shows and writes what it scanned, and is not recorded.
    Returns whether the reports were written (or none were asked for)."""
    view = history.unrecorded_view(result, corpus.settings, options, corpus.store.location, rechecks, rank_by=_chosen("rank_by"))
    if result.stopped is not None:
        click.echo(messages.say("error", message=result.stopped), err=True)
    _show(result.reports, fmt, show_formulae, view)
    written = _write_reports(view, out_dir)
    scan_id = _record(corpus, result, options, rechecks) if result.stopped is None else _not_recorded(corpus)
    if written and out_dir and scan_id is not None:
        written = _write_reports(history.view(corpus.store, scan_id, rank_by=_chosen("rank_by")), out_dir)
    if written and out_dir:
        click.echo(messages.say("reports_written", id=scan_id or "–", path=shown(os.path.join(out_dir, "index.html"))),
                   err=True)
    return written


def _write_reports(view, out_dir) -> bool:
    """Write the report folder (atomically, file by file); an error is one line and False."""
    if not out_dir:
        return True
    try:
        _report.write_reports(view, out_dir)
    except (DetectorError, OSError) as err:
        problem = err if isinstance(err, DetectorError) else storage_error(err, out_dir)
        click.echo(messages.say("error", message=messages.say("reports_not_written", message=problem)), err=True)
        return False
    return True


def _record(corpus, result, options: dict, rechecks=None):
    """The scan into the history, waiting at most HISTORY_WAIT_SECONDS for a writer; a warning when it cannot be."""
    try:
        with corpus.store.waiting(HISTORY_WAIT_SECONDS):
            scan_id = history.record_scan(corpus.store, result, corpus.settings, options=options, rechecks=rechecks)
    except (DetectorError, *_storage_errors()) as err:
        problem = err if isinstance(err, DetectorError) else storage_error(err, corpus.store.location)
        click.echo(messages.say("warning", message=messages.say("not_recorded", message=problem)), err=True)
        return None
    return scan_id


def _not_recorded(corpus) -> None:
    """A batch the store stopped is not recorded: the store is gone (recording would wait for it again), and the
    files not scanned are to be scanned again, which records them."""
    click.echo(messages.say("warning", message=messages.say("not_recorded_stopped", db=shown_target(corpus.store.location))),
               err=True)


# ---------------------------------------------------------------- the web page


@cli.command()
@_db_option
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on; any address but loopback requires a token.")
@click.option("--port", type=click.IntRange(1, 65535), default=8765, show_default=True, help="Port to listen on.")
@click.option("--token", default=None, help="Access token (generated and printed when --host is not loopback).")
@click.option("--archive", type=click.Path(file_okay=False), default=None,
              help="Archive folder: uploads the user adds to the archive are copied into ARCHIVE/web-uploads/ and indexed.")
@click.option("--rebuild-log", type=click.Path(dir_okay=False), default=None,
              help="The file the nightly rebuild's output is appended to: the archive page shows its last run.")
def serve(db_path, host, port, token, archive, rebuild_log):
    """A local web page: scan uploaded files, compare two, reopen past scans, correct the archive; JSON API under /api."""
    from detector.web.server import serve as run_server  # imported here: `chachong --help` loads no web framework

    if token is not None and not token.strip():
        raise click.UsageError("--token must not be empty")
    _call(run_server, db_path, host=host, port=port, token=token, archive=archive, rebuild_log=rebuild_log)


# ---------------------------------------------------------------- index maintenance: rebuild, remove


@cli.command()
@_db_option
@click.option("--from", "archive", required=True, type=click.Path(exists=True, file_okay=False),
              help="The archive folder (walked recursively): the corpus is brought in line with it.")
@click.option("--manifest", type=click.Path(dir_okay=False), default=None,
              help="CSV (UTF-8, GBK or UTF-16) with header path,author,unit,year; metadata changes are applied too.")
@_allow_outside_option
@click.option("--full", is_flag=True,
              help="Re-index everything from scratch (done anyway when the index was built by another version).")
@click.option("--keep-missing", is_flag=True, help="Keep documents whose files are gone from the archive.")
@click.option("--allow-mass-removal", is_flag=True,
              help="Remove the documents even when most of their files are gone (refused by default: an unmounted share).")
@_encoding_option
def rebuild(db_path, archive, manifest, full, keep_missing, allow_mass_removal, encoding):
    """Bring the corpus in line with an archive folder: add, re-index, remove, recount, compact.

    Scans may run meanwhile (they see the old index until the new one is committed). One writer at a
    time: a second rebuild exits with code 4. Exit code 1 when a file could not be indexed, or when the disk
    refused the compacting after the commit (the index is up to date all the same).
    """
    _call(api.archive_is_there, archive, manifest)
    with _log_to_stderr(), _stopped_by_sigterm():
        summary = _call(api.rebuild, db_path, archive, manifest=_manifest(manifest), full=full, keep_missing=keep_missing,
                        encoding=encoding, progress=_progress(), allow_mass_removal=allow_mass_removal)
    _echo_problems(summary.failed)  # the skipped links are in the log already
    if summary.compact_problem:
        click.echo(messages.say("error", message=summary.compact_problem), err=True)
    click.echo(messages.said(summary.line()))
    sys.exit(ExitCode.ERROR if summary.failed or summary.compact_problem else ExitCode.OK)


@cli.command()
@click.argument("targets", nargs=-1, required=True)
@_db_option
def remove(targets, db_path):
    """Remove documents by id, by the path they were added from, or by a folder; statistics stay consistent.

    A file still in the archive folder comes back at the next rebuild: delete it there too.
    """
    with _open(db_path, create=False) as corpus, _writing(corpus, "remove"):
        removed, unknown = _call(api.remove_paths, corpus, targets)
    for doc_id, path in removed:
        click.echo(messages.say("removed", id=doc_id, path=shown(path)))
    for target in unknown:
        click.echo(messages.say("error", message=messages.say("not_in_corpus", target=shown(target))), err=True)
    sys.exit(ExitCode.ERROR if unknown else ExitCode.OK)


@contextlib.contextmanager
def _writing(corpus, command: str):
    """Hold the index's writer lock for the block; exit at once with code 4 when another writer holds it."""
    lock = corpus.store.writer_lock(command)
    _call(lock.__enter__)
    try:
        yield
    finally:
        lock.__exit__(None, None, None)


def _in_users_language(record: logging.LogRecord) -> bool:
    """A log line in the users' language (a rebuild's stage lines in Chinese with --lang zh or a Chinese locale)."""
    record.msg, record.args = messages.said(record.getMessage()), ()
    return True


@contextlib.contextmanager
def _stopped_by_sigterm():
    """For the block, SIGTERM (`systemctl stop`, `kill`) raises Stopped in this process, so that a write transaction
    rolls back and the command logs that it was stopped; then the process ends by that signal, as it would have.
    A forked worker that gets it ends at once, as before."""
    owner = os.getpid()
    if threading.current_thread() is not threading.main_thread():  # only the main thread can take a signal
        yield
        return

    def stop(signum, frame):
        if os.getpid() != owner:
            _die_by(signum)
        raise Stopped()

    previous = signal.signal(signal.SIGTERM, stop)
    try:
        yield
    except Stopped:
        _die_by(signal.SIGTERM)
    finally:
        signal.signal(signal.SIGTERM, previous)


def _die_by(signum: int) -> None:
    signal.signal(signum, signal.SIG_DFL)
    os.kill(os.getpid(), signum)


@contextlib.contextmanager
def _log_to_stderr():
    """Log lines (one per stage, with counts and timings) to stderr for the length of a command."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s chachong %(levelname)s %(message)s", "%Y-%m-%d %H:%M:%S"))
    handler.addFilter(_in_users_language)
    logger = logging.getLogger("chachong")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        yield
    finally:
        logger.removeHandler(handler)


# ---------------------------------------------------------------- metadata


@cli.command("meta")
@click.argument("targets", nargs=-1)
@_db_option
@click.option("--author", default=None, help="Set the author.")
@click.option("--unit", default=None, help="Set the unit (单位).")
@click.option("--year", type=_YEAR, default=None, help="Set the year.")
@click.option("--meeting", default=None, help="Set the meeting: 民主生活会, 组织生活会 or other.")
@click.option("--team/--personal", "team", default=None, help="Mark as a team (班子) or a personal report.")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
def meta_command(targets, db_path, author, unit, year, meeting, team, fmt):
    """Show or correct the metadata of stored documents.

    Without TARGETS, lists every document. A TARGET is a document id, the path it was added from, or a file
    with the same content. With --author/--unit/--year/--meeting/--team the fields are set on every TARGET
    (and no longer marked as inferred).
    """
    edits = {k: v for k, v in dict(author=author, unit=unit, year=year, meeting=meeting, team=team).items() if v is not None}
    if edits and not targets:
        raise click.UsageError("name the documents to edit (ids or paths); `chachong meta --db DB` lists them")
    with _open(db_path, create=False) as corpus, _writing(corpus, "meta") if edits else contextlib.nullcontext():
        # refused while a rebuild runs: it would write back the metadata it read before, over the correction
        ids = [_call(api.update_metadata, corpus, t, **edits)[0] if edits else _call(api.find_document, corpus, t)
               for t in targets]
        rows = [r for r in api.list_documents(corpus) if not targets or r[0] in ids]
    click.echo(_render_meta(rows, fmt))


def _must_exist(paths) -> None:
    """A file or folder named on the command line that does not exist is a usage error: nothing is read or recorded."""
    missing = [path for path in paths if not os.path.lexists(path)]
    if missing:
        click.echo("\n".join(messages.say("error", message=messages.say("no_such_path", path=shown(p))) for p in missing),
                   err=True)
        sys.exit(ExitCode.USAGE)


def _given_meta(**fields):
    """DocumentMeta from command-line options, or None when none was given."""
    if all(v is None for v in fields.values()):
        return None
    from detector.metadata import meeting_name

    return DocumentMeta(**{**fields, "meeting": meeting_name(fields["meeting"])})


def _padded(label: str, width: int) -> str:
    """`label` padded to `width` terminal columns (a Chinese character takes two)."""
    import unicodedata

    columns = sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in label)
    return label + " " * max(1, width - columns)


def _render_meta(rows, fmt: str) -> str:
    """Documents with their metadata: JSON, or one line each with guessed values marked (推断)."""
    if fmt == "json":
        return json.dumps([{"id": i, "path": shown(p), **m.as_dict()} for i, p, m in rows], ensure_ascii=False, indent=2)
    return "\n".join(f"{i:>5}  {shown(p)}  {_meta_cells(m)}" for i, p, m in rows) or messages.say("no_documents")


def _meta_cells(meta) -> str:
    team = None if meta.team is None else ("班子" if meta.team else "个人")
    cells = [("author", meta.author), ("unit", meta.unit), ("year", meta.year), ("meeting", meta.meeting), ("team", team)]
    return "  ".join(f"{k}={'-' if v is None else shown_text(v)}{'(推断)' if k in meta.inferred else ''}" for k, v in cells)


# ---------------------------------------------------------------- helpers


def _open(db_path, create: bool, max_file_mb=None):
    corpus = _call(api.open_corpus, db_path, create=create)
    corpus.settings = _reading_settings(corpus.settings)
    if max_file_mb:
        corpus.settings = corpus.settings.replace(max_file_bytes=int(max_file_mb * 2**20))
    return corpus


def _call(function, *args, **kwargs):
    """Run a library function; its DetectorError becomes a one-line message and exit code 1."""
    try:
        return function(*args, **kwargs)
    except IndexLocked as err:
        click.echo(messages.say("error", message=err), err=True)
        sys.exit(ExitCode.LOCKED)
    except DetectorError as err:
        click.echo(messages.say("error", message=err), err=True)
        sys.exit(ExitCode.ERROR)


def _finish(reports, fmt: str, fail_above, show_formulae: bool, view=None) -> None:
    _show(reports, fmt, show_formulae, view)
    _exit(reports, fail_above)


def _show(reports, fmt: str, show_formulae: bool, view=None) -> None:
    colour = fmt == "text" and sys.stdout.isatty()
    click.echo(_report.RENDERERS[fmt](reports, colour=colour, show_formulae=show_formulae))
    if view is not None and fmt == "text" and len(reports) > 1:
        click.echo(_report.render_summary(view, colour=colour))
    for report in reports:
        if report.error:
            click.echo(messages.say("error", message=f"{shown(report.submission.path)}: {report.error}"), err=True)


def _exit(reports, fail_above, written: bool = True) -> None:
    if any(r.error for r in reports) or not written:
        sys.exit(ExitCode.ERROR)
    if fail_above is not None and any(r.metrics.get(_chosen("fail_measure"), 0) > fail_above for r in reports):
        sys.exit(ExitCode.FINDINGS)
    sys.exit(ExitCode.OK)


def _echo_problems(failed, skipped=()) -> None:
    """One line per file that failed (`error: PATH: reason`) or was skipped (`warning: …`), names escaped."""
    for path, reason in skipped:
        click.echo(messages.say("warning", message=f"{shown(path)}: {reason}"), err=True)
    for path, reason in failed:
        click.echo(messages.say("error", message=f"{shown(path)}: {reason}"), err=True)


def _progress():
    """A progress bar on a terminal's stderr, none in cron or pipes."""
    return True if sys.stderr.isatty() else False


def main():
    for stream in (sys.stdout, sys.stderr):  # a name that is not UTF-8 can never crash the output
        stream.reconfigure(errors="backslashreplace")
    from detector.allocator import keep_freed_memory

    keep_freed_memory()  # before any work: numpy arrays then reuse the heap
    try:
        cli(prog_name="chachong")
    finally:
        try:
            sys.stdout.flush()  # what is still buffered goes now, while a closed pipe can be told from a disk error
        except BrokenPipeError:
            _discard_output()
