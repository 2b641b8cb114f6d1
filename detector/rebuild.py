"""Bring a corpus in line with its archive folder: one locked pass that adds, re-indexes, removes, recounts and compacts."""

from __future__ import annotations

import dataclasses
import hashlib
import logging
import os
import time
from pathlib import Path

from detector import __version__
from detector.errors import NOTHING_CHANGED, DetectorError, InputError, NestedWatermarks, Stopped, storage_error
from detector.index import index_entries
from detector.ingest import find_input_files, read_document
from detector.ingest.manifest import as_manifest
from detector.metadata import GivenMeta, complete, name_key, same_text_warning
from detector.model import DocumentMeta
from detector.normalize import refuse_nested_watermarks
from detector.paths import resolved, shown
from detector.settings import DEFAULT, NORMALISER_VERSION, REBUILD_GUARD_MIN_GONE, REBUILD_MAX_GONE_SHARE, Settings
from detector.store import Store, driver_errors, open_store

log = logging.getLogger("chachong.rebuild")

BATCH_DOCUMENTS = 200  # documents fingerprinted per insert_documents call
RACY_SECONDS = 2  # a file modified this close to the survey is hashed again next time (its mtime may not move)
COMPACT_PENDING = "compact_pending"  # meta: committed changes not compacted yet (refused, cut short, WAL kept by a reader)


@dataclasses.dataclass
class RebuildSummary:
    """What a rebuild did; `failed` holds (path, reason) of files that could not be indexed."""

    added: list = dataclasses.field(default_factory=list)
    changed: list = dataclasses.field(default_factory=list)
    removed: list = dataclasses.field(default_factory=list)
    renamed: list = dataclasses.field(default_factory=list)  # (old path, new path): same content, no re-indexing
    relabelled: list = dataclasses.field(default_factory=list)  # manifest metadata changed
    kept_missing: list = dataclasses.field(default_factory=list)
    failed: list = dataclasses.field(default_factory=list)
    skipped: list = dataclasses.field(default_factory=list)  # (path, reason): links that loop or point nowhere
    unchanged: int = 0
    hashed: int = 0  # files whose content had to be hashed (size or mtime differed from the last run)
    full: bool = False
    full_reason: str | None = None
    documents: int = 0
    indexed: int = 0  # documents fingerprinted and written (all of them in a full rebuild)
    seconds: float = 0.0
    compact_problem: str | None = None  # why compacting, after the commit, was not done (a full disk: VACUUM)
    compacted_again: bool = False  # nothing changed, but the last rebuild's compacting had not finished: done now
    stages: dict = dataclasses.field(default_factory=dict)

    @property
    def changed_index(self) -> bool:
        return bool(self.full or self.added or self.changed or self.removed or self.renamed or self.relabelled)

    def line(self) -> str:
        """One line for the log and the terminal; a full rebuild says that it indexed everything again, which its
        'unchanged' files were too."""
        full = f"; full: all {self.indexed} indexed again" if self.full else ""
        again = "; compacted (the last rebuild's compacting had not finished)" if self.compacted_again else ""
        return (f"added {len(self.added)}, changed {len(self.changed)}, removed {len(self.removed)}, "
                f"renamed {len(self.renamed)}, relabelled {len(self.relabelled)}, unchanged {self.unchanged}, "
                f"failed {len(self.failed)}; {self.documents} documents; {self.seconds:.2f} s{full}{again}")


@dataclasses.dataclass
class _Plan:
    """The difference between the archive and the index, worked out before anything is written."""

    states: dict  # path → (size, mtime_ns, sha256) of every archive file that could be hashed
    index: list  # paths whose content is not stored yet (first path of each new content)
    remove: list  # (doc id, path) of stored documents to drop
    move: list  # (doc id, old path, new path)
    keep: list  # (doc id, path) of missing documents kept (--keep-missing)


def rebuild(db_path, archive, manifest=None, *, full: bool = False, keep_missing: bool = False,
            settings: Settings | None = None, encoding=None, progress: bool = False,
            allow_mass_removal: bool = False) -> RebuildSummary:
    """Bring the corpus at `db_path` in line with the files under `archive`.

    Atomic: files are read and fingerprinted first, then everything is written in ONE SQLite write
    transaction (the store's writing()). Scans read inside their own read state (the store's reading()), so they
    see the index before the commit or after it, never a mix; a rebuild killed before the commit leaves
    only uncommitted WAL frames, which SQLite discards, and the next run does the whole job again.
    Locked: raises IndexLocked at once when another writer holds the index (detector.locking).
    `settings` (Python callers only) changes the index settings, which makes the rebuild a full one;
    without it the stored ones are kept. An archive that lost most of its files (REBUILD_MAX_GONE_SHARE) raises
    DetectorError before anything is written, unless `allow_mass_removal`.
    """
    started = time.perf_counter()
    store = open_store(db_path, create=True)
    before = store.meta().get("last_rebuild")  # the commit writes another: whether it came, when stopped
    try:
        with store.writer_lock("rebuild"):
            log.info("lock: holding the writer lock of %s", store.location)
            job = _Rebuild(store, Path(archive).resolve(), manifest, keep_missing, encoding, progress, allow_mass_removal)
            summary = job.run(full, settings)
    except Stopped:
        _log_stopped(committed=store.meta().get("last_rebuild") != before)
        raise
    finally:
        store.close()
    summary.seconds = time.perf_counter() - started
    log.info("done: %s", summary.line())
    return summary


def archive_is_there(archive, manifest=None) -> None:
    """Raise DetectorError when the archive folder is empty and the manifest given is missing: the share that holds
    both is not mounted (an empty mount point), and nothing is changed."""
    if manifest is None or os.path.exists(manifest) or not os.path.isdir(archive) or any(os.scandir(archive)):
        return
    raise DetectorError(f"{shown(archive)}: the folder is empty and the manifest {shown(manifest)} is not there (is the "
                        "archive mounted, or still being copied?); nothing was changed. Check the folder and run again")


def _log_stopped(committed: bool) -> None:
    """One log line when SIGTERM stopped the run (the write transaction, if one was open, is rolled back by now)."""
    if committed:
        log.warning("stopped (SIGTERM) after the changes were committed: the index is complete and in line with the "
                    "archive; only compacting was cut short")
    else:
        log.warning("stopped (SIGTERM) before the changes were committed: the index is as it was before this run, "
                    "nothing half-written; the next rebuild does the whole job")


def full_rebuild_reason(stored: dict | None, wanted: Settings | None = None) -> str | None:
    """Why an index built with the `stored` signature cannot be updated incrementally (None: it can)."""
    if not stored:
        return None
    if stored.get("normaliser_version") != NORMALISER_VERSION:
        return (f"the index was built with normaliser version {stored.get('normaliser_version')}, "
                f"this chachong has {NORMALISER_VERSION}")
    if wanted is not None and wanted.index_signature() != stored:
        return "other index settings were asked for"
    if stored_settings(stored).index_signature() != stored:
        return "this chachong derives other index parameters from the stored settings"
    return None


def stored_settings(stored: dict | None) -> Settings:
    """The Settings an index was built with (the defaults for fields it does not record)."""
    names = {f.name for f in dataclasses.fields(Settings)}
    fields = {k: v for k, v in (stored or {}).items() if k in names}
    if "lsh_weights" in fields:
        fields["lsh_weights"] = tuple(fields["lsh_weights"])
    return DEFAULT.replace(**fields)


class _Rebuild:
    """One rebuild run: survey → plan → apply (one transaction) → compact, each stage logged with counts and time."""

    def __init__(self, store: Store, archive: Path, manifest, keep_missing: bool, encoding, progress: bool,
                 allow_mass_removal: bool = False):
        self.store = store
        self.archive = archive
        self.manifest = as_manifest(manifest)
        self.keep_missing = keep_missing
        self.encoding = encoding
        self.progress = progress
        self.summary = RebuildSummary()
        self.unreadable_folders: list = []
        self.allow_mass_removal = allow_mass_removal
        self._ids: list | None = None  # per entry to insert, the id to store it under (a full rebuild's former ids)

    def run(self, full: bool, settings: Settings | None) -> RebuildSummary:
        self.settings, self.summary.full = self._choose_settings(full, settings)
        plan = self._stage("survey", self._survey)
        self._refuse_mass_removal()
        self._record_manifest(plan)
        self.given = GivenMeta(self.store.given_meta_rows())
        self._warn_same_text_of_two_authors(plan)
        applied = False
        if self.summary.full or self._has_work(plan):
            entries = self._stage("prepare", lambda: self._prepare(plan))
            if self.summary.full or entries or self._has_work(dataclasses.replace(plan, index=[])):
                self._stage("apply", lambda: self._apply(plan, entries))
                applied = True
        if not applied and self.store.settle():  # the recount packs every posting; else what a killed add left
            log.info("merge: the postings a command stopped before its end left recent were merged")
        if applied or self.store.meta().get(COMPACT_PENDING):  # a night that changes nothing finishes the last one's
            self.summary.compacted_again = self._compact_after_commit() and not applied
        self.summary.documents = self.store.document_count()
        return self.summary

    def _refuse_mass_removal(self) -> None:
        """Nothing is written when the archive lost most of the stored documents' files (see REBUILD_MAX_GONE_SHARE)."""
        stored, gone = self.store.document_count(), len(self.summary.removed)
        if self.allow_mass_removal or not gone:
            return
        if gone == stored or (gone >= REBUILD_GUARD_MIN_GONE and gone > stored * REBUILD_MAX_GONE_SHARE):
            raise DetectorError(f"{shown(self.archive)}: the files of {gone} of the {stored} stored documents are gone "
                                "(is it mounted, or still being copied?); nothing was changed. Check the folder, or run "
                                "again with --allow-mass-removal if they were deleted on purpose")

    def _stage(self, name: str, work):
        started = time.perf_counter()
        result = work()
        self.summary.stages[name] = seconds = time.perf_counter() - started
        log.info("%s: %s (%.2f s)", name, self._counts(name), seconds)
        return result

    def _counts(self, stage: str) -> str:
        s = self.summary
        if stage == "survey":
            return (f"{s.unchanged + len(s.added) + len(s.changed)} files to keep or index, {s.hashed} hashed, "
                    f"{len(s.added)} new, {len(s.changed)} changed, {len(s.removed)} gone, {len(s.renamed)} renamed, "
                    f"{len(s.failed)} unreadable")
        if stage == "prepare":
            return f"{self._prepared} documents read and fingerprinted, {len(s.failed)} failed"
        if stage == "apply":
            return (f"{self._prepared} indexed, {len(s.removed)} removed, {len(s.renamed)} renamed, "
                    f"{len(s.relabelled)} relabelled; statistics recounted; committed")
        return self._compaction

    # ---------------------------------------------------------------- settings

    def _choose_settings(self, full: bool, settings: Settings | None) -> tuple[Settings, bool]:
        stored = self.store.meta().get("index")
        reason = full_rebuild_reason(stored, settings)
        if reason and not full:
            log.warning("full rebuild needed: %s; doing one", reason)
            full = True
        self.summary.full_reason = reason
        if settings is None:
            settings = stored_settings(stored) if stored else DEFAULT
        return settings, full

    # ---------------------------------------------------------------- survey and plan

    def _survey(self) -> _Plan:
        self.known = self.store.file_states()
        states = self._file_states(self.known)
        plan = self._plan(states)
        self._classify(plan)
        return plan

    def _file_states(self, known: dict) -> dict:
        """path → (size, mtime_ns, sha256); the content is hashed only when size or mtime differ from last time."""
        states, racy_after = {}, time.time_ns() - RACY_SECONDS * 10**9
        found = find_input_files([self.archive])
        self.summary.failed += found.failed
        self.unreadable_folders = found.failed_folders()
        for path, reason in found.skipped:
            log.warning("skipped %s: %s", shown(path), reason)
        self.summary.skipped = found.skipped
        for path in map(str, found.files):
            try:
                states[path] = self._file_state(path, known.get(path), racy_after)
            except OSError as err:
                self.summary.failed.append((path, f"could not be read ({err.strerror or err})"))
        return states

    def _file_state(self, path: str, known, racy_after: int) -> tuple:
        stat = os.stat(path)
        if known and known[0] == stat.st_size and known[1] == stat.st_mtime_ns:
            return known
        self.summary.hashed += 1
        mtime = stat.st_mtime_ns if stat.st_mtime_ns < racy_after else -1
        return stat.st_size, mtime, _sha256(path)

    def _plan(self, states: dict) -> _Plan:
        by_sha: dict = {}
        for path, state in states.items():  # walk order: the first path of a content is the one indexed
            by_sha.setdefault(state[2], []).append(path)
        stored = {sha: (doc_id, path) for doc_id, path, sha in self.store.documents()}
        if self.summary.full:
            return self._full_plan(states, by_sha, stored)
        plan = _Plan(states, [paths[0] for sha, paths in by_sha.items() if sha not in stored], [], [], [])
        for sha, (doc_id, path) in stored.items():
            if sha in by_sha and path not in by_sha[sha]:
                plan.move.append((doc_id, path, by_sha[sha][0]))
            elif sha not in by_sha:
                self._drop_or_keep(plan, doc_id, path)
        return plan

    def _full_plan(self, states: dict, by_sha: dict, stored: dict) -> _Plan:
        plan = _Plan(states, [paths[0] for paths in by_sha.values()], [], [], [])
        for sha, (doc_id, path) in stored.items():
            if sha not in by_sha:
                self._drop_or_keep(plan, doc_id, path)
        return plan

    def _drop_or_keep(self, plan: _Plan, doc_id: int, path: str) -> None:
        if (self.keep_missing and path not in plan.states) or self._unreadable(path):
            plan.keep.append((doc_id, path))
        else:
            plan.remove.append((doc_id, path))

    def _unreadable(self, path: str) -> bool:
        """Could the file not be hashed, or its folder not be listed? Then what is indexed for it stays."""
        if any(path == failed for failed, _ in self.summary.failed):
            return True
        return any(path.startswith(folder.rstrip(os.sep) + os.sep) for folder in self.unreadable_folders)

    def _classify(self, plan: _Plan) -> None:
        s, stored = self.summary, self.store.documents()
        stored_paths, stored_shas = {path for _, path, _ in stored}, {sha for _, _, sha in stored}
        for path in plan.index:
            if plan.states[path][2] in stored_shas:  # a full rebuild re-indexes unchanged files
                continue
            (s.changed if path in stored_paths else s.added).append(path)  # another content at a stored path
        s.removed = [path for _, path in plan.remove if path not in plan.states]
        s.changed += [path for _, path in plan.remove if path in plan.states and path not in s.changed]  # now a copy
        s.renamed = [(old, new) for _, old, new in plan.move]
        s.kept_missing = [path for _, path in plan.keep if path not in plan.states]
        s.unchanged = len(plan.states) - len(s.added) - len(s.changed)

    def _has_work(self, plan: _Plan) -> bool:
        """Anything to write? A run that finds nothing to change does not open a write transaction at all (nor does
        one whose only new files could not be read: they are tried again next night)."""
        return bool(plan.index or plan.remove or plan.move or self._relabels(plan)
                    or self._states_to_record(plan) != self.known)

    def _relabels(self, plan: _Plan) -> list:
        """(doc id, path, meta) of kept documents whose metadata people have since said otherwise (manifest, meta)."""
        if self.summary.full:
            return []
        gone, moved = {doc_id for doc_id, _ in plan.remove}, {doc_id: new for doc_id, _, new in plan.move}
        metas, relabels = self.store.document_metas(), []
        for doc_id, path, sha in self.store.documents():
            path = moved.get(doc_id, path)
            wanted = self.given.apply(metas[doc_id], sha, path)
            if doc_id not in gone and wanted != metas[doc_id]:
                relabels.append((doc_id, path, wanted))
        return relabels

    def _record_manifest(self, plan: _Plan) -> None:
        """The manifest's rows are data people gave: recorded (by content and path) when they say something new."""
        self._warn_unmatched_rows(plan)
        entries = [(state[2], path, self.manifest[resolved(path)]) for path, state in plan.states.items()
                   if resolved(path) in self.manifest]
        if entries and not self.store.given_meta_unchanged(entries, "manifest"):
            with self.store.writing():
                self.store.remember_given_meta(entries, "manifest")

    def _warn_same_text_of_two_authors(self, plan: _Plan) -> None:
        """One log line per archive file whose text is another file's (stored once, under the first path) but that
        people gave another author: two cadres handed in one text, which the office wants to compare."""
        by_sha: dict = {}
        for path, (_, _, sha) in plan.states.items():  # walk order: the first path of a content is the one indexed
            by_sha.setdefault(sha, []).append(path)
        for sha, paths in by_sha.items():
            authors = [self.given.fields(sha, path).get("author") for path in paths] if len(paths) > 1 else []
            for path, author in zip(paths[1:], authors[1:]):
                if author and authors[0] and name_key(author) != name_key(authors[0]):
                    log.warning("%s: %s", shown(path), same_text_warning(author, shown(paths[0]), authors[0]))

    def _warn_unmatched_rows(self, plan: _Plan) -> None:
        """One log line for the manifest rows that name no file of the archive (a typo, a renamed file): their
        metadata is applied to nothing, and a report whose author stays unknown cannot be told apart as own reuse."""
        if not self.manifest:
            return
        found = {resolved(path) for path in plan.states}
        unmatched = [shown(path) for path in self.manifest if path not in found]
        if unmatched:
            log.warning("manifest: no file in the archive for %d row%s (%s%s): not applied; check the path column",
                        len(unmatched), "s" if len(unmatched) > 1 else "", ", ".join(unmatched[:5]),
                        f" and {len(unmatched) - 5} more" if len(unmatched) > 5 else "")

    # ---------------------------------------------------------------- apply: one transaction

    # ---------------------------------------------------------------- prepare: no write lock on the database

    def _prepare(self, plan: _Plan) -> list:
        """IndexEntry of everything to insert, read and fingerprinted (on every core) before the write transaction
        so that it stays short (scans recording their results wait for it)."""
        docs = [doc for doc in map(self._read, self._bar(plan.index)) if doc is not None]
        self._keep_what_could_not_be_replaced(plan)
        kept = [self._kept_document(doc_id) for doc_id, _ in plan.keep] if self.summary.full else []
        entries = index_entries(docs + kept, self.settings, to_store=True)
        self._prepared = self.summary.indexed = len(entries)
        if self.summary.full:
            entries, self._ids = self._in_former_order(entries)
        return entries

    def _in_former_order(self, entries: list) -> tuple[list, list]:
        """A full rebuild's entries and, per entry, the id its content was stored under (kept: `meta 17`, `remove 17`
        and the source ids of recorded reports and exports still name the same report), or None for new content;
        ordered by those ids, new content last, so that segments ascend with ids as in an index added to over time
        (a hot key's sample is its oldest reports in every backend)."""
        by_sha = {sha: doc_id for doc_id, _, sha in self.store.documents()}
        ids, given = [], set()
        for entry in entries:
            doc_id = by_sha.get(entry.document.sha256)
            ids.append(None if doc_id in given else doc_id)  # one content, one id
            given.add(doc_id)
        order = sorted(range(len(entries)), key=lambda n: (ids[n] is None, ids[n] or 0))
        return [entries[n] for n in order], [ids[n] for n in order]

    def _keep_what_could_not_be_replaced(self, plan: _Plan) -> None:
        """A stored document whose file now holds content that cannot be read (a damaged .docx copied over it, a
        crafted text) stays as it was, and the file is tried again next time: dropping it would lose the report the
        damaged copy replaced, and with it the evidence later scans compare against. So does one whose unchanged file
        a full rebuild cannot read again (a disk error, a text an earlier chachong stored that this one refuses):
        a full rebuild clears the index, and only what it indexes again stays."""
        failed = {path: n for n, (path, _) in enumerate(self.summary.failed)}
        for doc_id, path in [(d, p) for d, p in plan.remove if p in failed and p in plan.states]:
            plan.remove.remove((doc_id, path))
            self._keep(plan, doc_id, path, failed[path])
        if self.summary.full:  # the index is cleared: a stored document whose unchanged file fails now is kept too
            stored = {sha: doc_id for doc_id, _, sha in self.store.documents()}
            for path in [p for p in plan.index if p in failed and plan.states[p][2] in stored]:
                self._keep(plan, stored[plan.states[path][2]], path, failed[path])

    def _keep(self, plan: _Plan, doc_id: int, path: str, failure: int) -> None:
        """Keep stored document `doc_id` whose file at `path` could not be read (summary.failed[failure]), saying so."""
        plan.keep.append((doc_id, path))
        where, reason = self.summary.failed[failure]
        self.summary.failed[failure] = (where, f"{reason}; the content indexed for it before stays until the file can be "
                                               "read")

    def _kept_document(self, doc_id: int):
        """A stored document a full rebuild indexes again without its file (missing, or in a folder not readable). One
        that an earlier chachong stored with watermarks nested as only a crafted text has them stops the rebuild before
        anything is written, naming it: it cannot be indexed, and dropping it unasked would lose it."""
        doc = self.store.document(doc_id)
        try:
            refuse_nested_watermarks(doc.text, doc.path)
        except NestedWatermarks as err:
            raise NestedWatermarks(doc.path, f"stored document {doc_id}: {err.reason.split('; ')[0]}; {NOTHING_CHANGED}: "
                                             f"drop it with `chachong remove {doc_id} --db DB`, then rebuild again") from None
        return doc

    def _read(self, path: str):
        """The document at `path`, its metadata as people gave it (manifest, meta, add), the rest inferred as `add` does."""
        try:
            doc = read_document(path, encoding=self.encoding, settings=self.settings)
            doc.meta = complete(self.given.apply(DocumentMeta(), doc.sha256, path), doc.text, path)
            return doc
        except InputError as err:
            self.summary.failed.append((path, err.reason))
            for bucket in (self.summary.added, self.summary.changed):
                if path in bucket:
                    bucket.remove(path)
            return None

    # ---------------------------------------------------------------- apply: one write transaction

    def _apply(self, plan: _Plan, entries: list) -> None:
        relabels = self._relabels(plan)
        with self.store.writing():
            self.store.recount_follows()
            self._clear_or_remove(plan)
            for doc_id, _, new in plan.move:
                self.store.move_document(doc_id, new)
            for i in range(0, len(entries), BATCH_DOCUMENTS):
                self.store.insert_documents(entries[i : i + BATCH_DOCUMENTS],
                                            self._ids[i : i + BATCH_DOCUMENTS] if self._ids else None)
            for doc_id, path, meta in relabels:
                self.store.update_meta(doc_id, meta)
            self.summary.relabelled = [path for _, path, _ in relabels]
            self._carry_given_meta(plan, entries)
            self._recount()
            self.store.replace_file_states(self._states_to_record(plan))
            self._record_meta()

    def _carry_given_meta(self, plan: _Plan, entries: list) -> None:
        """What people said of a document found by its content or its path is recorded for its new content and path
        too, so that a later move (or edit) of the file still finds it."""
        shas = {doc_id: sha for doc_id, _, sha in self.store.documents()}
        moved = [(shas[doc_id], new) for doc_id, _, new in plan.move if doc_id in shas]
        placed = moved + [(e.document.sha256, e.document.path) for e in entries]
        carried = [(sha, path, self.given.apply(DocumentMeta(), sha, path)) for sha, path in placed]
        self.store.remember_given_meta([c for c in carried if c[2] != DocumentMeta()], "carried")

    def _clear_or_remove(self, plan: _Plan) -> None:
        if self.summary.full:
            self.store.clear_index()
        elif plan.remove:
            self.store.delete_documents([doc_id for doc_id, _ in plan.remove])

    def _recount(self) -> None:
        """segment_df and the hot band keys from scratch, from every stored document's layout."""
        rows = self.store.recount_segment_df()
        log.info("statistics: %d segment hashes recounted", rows)

    def _states_to_record(self, plan: _Plan) -> dict:
        failed = {path for path, _ in self.summary.failed}
        return {path: state for path, state in plan.states.items() if path not in failed}

    def _record_meta(self) -> None:
        self.store.set_meta("index", self.settings.index_signature())
        self.store.set_meta("built_by", {"chachong": __version__, "normaliser_version": NORMALISER_VERSION})
        s = self.summary
        self.store.set_meta("last_rebuild", {
            "at": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "archive": str(self.archive), "full": s.full,
            "added": len(s.added), "changed": len(s.changed), "removed": len(s.removed), "failed": len(s.failed)})
        self.store.set_meta(COMPACT_PENDING, True)  # with the changes: compacting after the commit may not finish

    # ---------------------------------------------------------------- after the commit

    def _compact_after_commit(self) -> bool:
        """Compacting comes after the commit: when the disk or the database refuses it (VACUUM needs room for a copy
        of the database), the new index stands, and the problem is said as such — not as 'nothing was changed'.
        Whether it finished: until it does, the meta says it is pending and the next rebuild compacts."""
        try:
            finished = self._stage("compact", self._compact)
        except (*driver_errors(), OSError) as err:
            problem = str(storage_error(err, self.store.location))
            self.summary.compact_problem = problem.replace(
                NOTHING_CHANGED, "the changes were committed (the index is in line with the archive), only compacting "
                "was not done")
            log.warning("compact: not done; the changes were committed")
            return False
        if finished:
            self._no_compact_pending()
        return finished

    def _no_compact_pending(self) -> None:
        """Forget the pending compacting; a disk that refuses this small write leaves it pending, and the next rebuild
        compacts once more (no harm)."""
        try:
            with self.store.writing():
                self.store.set_meta(COMPACT_PENDING, False)
        except (*driver_errors(), OSError):
            log.warning("compact: done, but not recorded as done; the next rebuild compacts again")

    def _compact(self) -> bool:
        """Compact; whether it finished (a scan reading an old snapshot keeps the WAL, and its space)."""
        result = self.store.compact()
        if "pages" not in result:  # a backend without pages (Redis): what its clean-up did
            self._compaction = ", ".join(f"{k.replace('_', ' ')} {v}" for k, v in result.items()) or "nothing to do"
            return True
        self._compaction = (f"optimized; {result['free_pages']} of {result['pages']} pages free"
                            f"{', vacuumed' if result['vacuumed'] else ''}"
                            f"{'' if result['wal_truncated'] else '; WAL kept (a scan is reading)'}")
        return result["wal_truncated"]

    def _bar(self, items: list):
        if not self.progress or not items:
            return items
        from tqdm import tqdm

        return tqdm(items, desc="indexing", unit="file")


def _sha256(path: str) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
