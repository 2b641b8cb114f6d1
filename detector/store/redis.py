"""The corpus on a Redis Cluster (or one Redis server): `RedisStore`, the Store interface over the key layout below.

Target: `redis://[:PASSWORD@]HOST:PORT/NAME` (`rediss://` for TLS); any node of a cluster is an entry point.
NAME is the corpus's namespace: several corpora share a cluster. Curly braces are Redis Cluster hash tags:
keys with the same tag live in the same slot (one node), so one script call or multi-key command serves them.

Namespace keys, tag `{NAME}` (one slot, so the pointer switch can check the writer lock in one script):
    {NAME}:current            the generation scans read (an integer); absent: no corpus of that name
    {NAME}:next               generation counter (INCR)
    {NAME}:generations        SET of generations that may have keys (the next writer deletes all but current)
    {NAME}:version            INCR at every committed write (a reader's "changed since last time")
    {NAME}:lock               the writer lock: JSON {token, pid, host, command, started}, PX expiry, renewed
    {NAME}:readers:G          ZSET of read leases on generation G (score: expiry, ms): a rebuild waits for them
    {NAME}:scan-next, {NAME}:scans    scan history: id counter, HASH id → JSON summary (written last)
    {NAME:scanI}              HASH "scan" → JSON, "rP" → zlib JSON of the report at batch position P
    {NAME:given:SHA}, {NAME:given-path:PATH}   metadata people gave (meta, manifests, add's options), by content
                              and by path: HASH [path or sha, field, origin] → [value, seq]; {NAME:givenS} SETs
                              of the contents with statements; {NAME}:given-seq orders the statements

Generation G (a full rebuild writes a new generation; everything else writes in place):
    {NAME:G}:meta             HASH key → JSON (index settings, schema, built_by, last_rebuild …)
    {NAME:G}:ids              document id counter (INCRBY n for a batch: ids need no cross-slot counter)
    {NAME:G}:state            HASH documents, segments, characters, postings (totals); df_epoch, files_epoch
    {NAME:G}:pending          HASH document id → stage, while a document is being written or deleted
    {NAME:G:cS}               catalogue shard S = id % 64: HASH id → JSON {path, sha256, chars, segments, meta,
                              encoding, format, added_at}; a document is visible to scans iff it is here
    {NAME:G:sS}, {NAME:G:nS}  sha256 → id and path → JSON [ids], sharded by crc32 % 64
    {NAME:G:hS}:E             segment document frequencies, epoch E: HASH content hash → documents
    {NAME:G:fS}:E             archive files seen by the last rebuild, epoch E: HASH path → JSON [size, mtime, sha]
    {NAME:G:dI}               document I: HASH text (zstd UTF-8; older: zlib), layout (detector.layout blob), contents (its
                              segment contents, what verifying reads: layout.encode_contents; absent in a document
                              written before them: its layout is read instead), hashes (int64 segment content
                              hashes), bands (big-endian uint32, segments × bands), chars, band_width
    {NAME:G:pT}KKKK           postings of band key K (KKKK: its 4 bytes, big-endian), T = K % 256: a STRING of
                              8-byte records (document id, segment index; big-endian uint32 each), APPENDed in
                              ascending document order; STRLEN / 8 is the count, GETRANGE 0 8·cap−1 a capped
                              read with no counting. The 256 tags spread postings over the slots, and one
                              script call per tag writes or reads all of a batch's keys with that tag.

Consistency. Adds and removes write in place, each document in an order that never shows half of it: a new
document's text, layout, postings and counts first, its catalogue entry last; a removed one leaves the catalogue
first. Scans take documents only from the catalogue, so postings of a document being written or deleted are
ignored. `pending` lists documents in flight; the next writer finishes their removal (a killed `add` leaves
nothing visible). Segment counts of a document killed mid-write may be off by one until the next rebuild
recounts them. File states and recounted frequencies are written under a new epoch, switched by one field.
A full rebuild (`clear_index`) writes a new generation and switches `{NAME}:current` when complete, in one
script that checks the writer's lock; scans hold a lease on the generation they read, and the rebuild
deletes the old generation once those scans end (or after REDIS_READER_GRACE_SECONDS). A killed rebuild
leaves the old generation serving; the next writer deletes the partial one.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime
import json
import os
import socket
import threading
import time
import uuid
import zlib
from collections import Counter

import numpy as np

from detector.compression import compress, decompress
from detector.errors import DatabaseError, IndexLocked, SettingsMismatch
from detector.model import Document, DocumentMeta, SourceRef
from detector.settings import REDIS_LOCK_SECONDS, REDIS_READER_GRACE_SECONDS, REDIS_WRITE_BATCH_KEYS
from detector.store.base import NEWS, IndexEntry, Postings, contents_from_layouts, place_in_time, repeated_seqs
from detector.store.redis_link import Link, parse_target

SCHEMA_VERSION = 1
SHARDS = 64  # catalogue, sha, path, frequency and file shards per generation
POSTING_TAGS = 256  # hash tags the band keys are spread over
DOCS_PER_BATCH = 200  # documents written per round of pipelines
_RECORD = np.dtype([("doc", ">u4"), ("segment", ">u4")])
_FIGURE_FIELDS = ("hashes", "bands", "chars", "band_width")

# The posting scripts get one hash tag's key prefix as KEYS[1] (it names the slot) and the band keys as one string
# of 4-byte big-endian integers: the key names are built inside the server, not sent one by one.
_APPEND = """
local prefix, keys, counts, records, at = KEYS[1], ARGV[1], ARGV[2], ARGV[3], 1
for i = 1, #keys, 4 do
  local n = struct.unpack('>I4', counts, i)
  redis.call('APPEND', prefix .. string.sub(keys, i, i + 3), string.sub(records, at, at + 8 * n - 1))
  at = at + 8 * n
end
return #keys / 4
"""
_READ = """
local prefix, keys, cap, head, body = KEYS[1], ARGV[1], tonumber(ARGV[2]), {}, {}
for i = 1, #keys, 4 do
  local key = prefix .. string.sub(keys, i, i + 3)
  local n, data = redis.call('STRLEN', key), ''
  if n > 0 then data = redis.call('GETRANGE', key, 0, cap - 1) end
  head[#head + 1] = struct.pack('>I4I4', n, #data)
  body[#body + 1] = data
end
return table.concat(head) .. table.concat(body)
"""
_FILTER = """
local prefix, keys, doomed, removed = KEYS[1], ARGV[1], {}, 0
for i = 1, #ARGV[2], 4 do doomed[string.sub(ARGV[2], i, i + 3)] = true end
for k = 1, #keys, 4 do
  local key = prefix .. string.sub(keys, k, k + 3)
  local data = redis.call('GET', key)
  if data then
    local kept = {}
    for i = 1, #data, 8 do
      if doomed[string.sub(data, i, i + 3)] then removed = removed + 1 else kept[#kept + 1] = string.sub(data, i, i + 7) end
    end
    if #kept == 0 then redis.call('DEL', key) elseif #kept * 8 < #data then redis.call('SET', key, table.concat(kept)) end
  end
end
return removed
"""
_COUNT = """
for i = 1, #ARGV, 2 do
  if redis.call('HINCRBY', KEYS[1], ARGV[i], ARGV[i + 1]) <= 0 then redis.call('HDEL', KEYS[1], ARGV[i]) end
end
return 1
"""
_SWITCH = """
if ARGV[1] ~= '' and redis.call('GET', KEYS[1]) ~= ARGV[1] then
  return redis.error_reply('LOCKLOST the writer lock expired while this process was writing')
end
redis.call('SET', KEYS[2], ARGV[2])
return redis.call('INCR', KEYS[3])
"""
_RENEW = "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end return 0"
_RELEASE = "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0"


@dataclasses.dataclass
class ReadState:
    changed: bool = False


@dataclasses.dataclass
class _Write:
    """What one writing() block writes to: its generation, whether that generation is new, buffered metadata."""

    generation: int
    fresh: bool = False
    meta: dict = dataclasses.field(default_factory=dict)
    files: dict | None = None
    added: dict = dataclasses.field(default_factory=dict)  # id → (catalogue record, counted figures): shown at commit
    deleted: dict = dataclasses.field(default_factory=dict)  # id → catalogue record: hidden at commit
    recount: tuple | None = None  # (df epoch, totals) of a recount, switched to at commit


class Keys:
    """Key names of one namespace (see the module docstring)."""

    def __init__(self, name: str):
        self.name = name
        tag = "{" + name + "}"
        self.current, self.next, self.generations = f"{tag}:current", f"{tag}:next", f"{tag}:generations"
        self.version, self.lock = f"{tag}:version", f"{tag}:lock"
        self.scan_next, self.scans = f"{tag}:scan-next", f"{tag}:scans"
        self.given_seq = f"{tag}:given-seq"

    def given_by_sha(self, sha: str) -> str:
        return f"{{{self.name}:given:{sha}}}"

    def given_by_path(self, path: str) -> bytes:
        return f"{{{self.name}:given-path:".encode() + _b(path) + b"}"

    def given_index(self, shard: int) -> str:
        return f"{{{self.name}:given{shard}}}"

    def readers(self, gen: int) -> str:
        return f"{{{self.name}}}:readers:{gen}"

    def scan(self, scan_id: int) -> str:
        return f"{{{self.name}:scan{scan_id}}}"

    def of(self, gen: int, what: str) -> str:  # meta, ids, state, pending
        return f"{{{self.name}:{gen}}}:{what}"

    def shard(self, gen: int, kind: str, shard: int, epoch: int | None = None) -> str:
        key = f"{{{self.name}:{gen}:{kind}{shard}}}"
        return key if epoch is None else f"{key}:{epoch}"

    def document(self, gen: int, doc_id: int) -> str:
        return f"{{{self.name}:{gen}:d{doc_id}}}"

    def posting_prefix(self, gen: int, tag: int) -> bytes:
        return f"{{{self.name}:{gen}:p{tag}}}".encode()


def _b(text: str) -> bytes:
    """UTF-8 bytes of a path, a file name that was not UTF-8 byte for byte (surrogate escapes)."""
    return text.encode("utf-8", "surrogateescape")


def _json(value) -> str:
    """JSON with non-ASCII escaped: file names that were not UTF-8 survive the round trip."""
    return json.dumps(value)


def _crc_shard(text: str) -> int:
    return zlib.crc32(_b(text)) % SHARDS


class RedisStore:
    """A corpus in a Redis Cluster or on one Redis server; see the module docstring for the key layout."""

    def __init__(self, url: str, create: bool = False):
        target = parse_target(url)
        self.location = target.location
        self.link = Link(target)
        self.keys = Keys(target.name)
        self._write: _Write | None = None
        self._reading = False
        self._lease = None
        self._seen = None
        self._lock_value = None
        self._lock_lost = threading.Event()
        try:
            self._generation = self._open(create)
        except BaseException:
            self.link.close()
            raise

    def _open(self, create: bool) -> int:
        gen = self.link.read(self.link.client.get, self.keys.current)
        if gen is not None:
            return int(gen)
        if not create:
            raise self._evicted() or DatabaseError(
                f"{self.location}: no corpus named {self.keys.name} on this Redis (an empty namespace); "
                f"create one with `chachong add PATH... --db {self.location}`")
        gen = self.link.write(self.link.client.incr, self.keys.next)
        self.link.write(self.link.client.sadd, self.keys.generations, gen)
        self.link.write(self.link.client.set, self.keys.current, gen, nx=True)  # NX: a racing creator wins
        return int(self.link.read(self.link.client.get, self.keys.current))

    def close(self) -> None:
        self.link.close()

    # ------------------------------------------------------------------ generations, reading, writing
    def _gen(self) -> int:
        """The generation this call works on: the writer's, the scan's, else the serving one now."""
        if self._write is not None:
            return self._write.generation
        if not self._reading:
            self._generation = self._serving()
        return self._generation

    def _serving(self) -> int:
        gen = self.link.read(self.link.client.get, self.keys.current)
        if gen is None:
            raise self._deleted()
        return int(gen)

    def _deleted(self) -> DatabaseError:
        return self._evicted() or DatabaseError(f"{self.location}: the corpus {self.keys.name} was deleted from this Redis")

    def _evicted(self) -> DatabaseError | None:
        """When the corpus's pointer is gone and the server evicted keys to stay under its maxmemory: that it did, not
        to create a new corpus over the lost one, and how to get it back. None when eviction cannot be told: no server
        counts evicted keys, and none drops keys with some of this corpus's keys left (a restart loses them all)."""
        servers = self.link.eviction()
        left = self.link.read(self.link.client.exists, self.keys.next, self.keys.generations, self.keys.version,
                              self.keys.scans, self.keys.scan_next)
        if not any(evicted for *_, evicted in servers) and not (left and any(evicts for _, _, evicts, _ in servers)):
            return None
        facts = ", ".join(f"{name}: {evicted} keys evicted, maxmemory-policy {policy}" for name, policy, _, evicted in servers)
        certainty = "its keys were evicted (some of them are left)" if left else "its keys were evicted, if the name is right"
        return DatabaseError(f"{self.location}: the corpus {self.keys.name} is gone and this Redis evicted keys when it was "
                             f"full ({facts}): {certainty}; do not create a new corpus over it: set maxmemory-policy "
                             "noeviction on the server (redis-cli CONFIG SET maxmemory-policy noeviction, and in redis.conf), "
                             f"then rebuild the corpus from the archive (`chachong rebuild --db {self.location} --from ARCHIVE`)")

    @contextlib.contextmanager
    def reading(self):
        """One generation for the whole block, held by a lease so that a rebuild does not delete it meanwhile."""
        if self._reading or self._write is not None:
            yield ReadState(False)
            return
        gen, version = self.link.read(self.link.run, [(("GET", self.keys.current), None), (("GET", self.keys.version), None)])
        if gen is None:
            raise self._deleted()
        seen = (int(gen), int(version or 0))
        state = ReadState(changed=self._seen is not None and self._seen != seen)
        self._seen, self._generation, self._reading = seen, int(gen), True
        self._lease = (self.keys.readers(int(gen)), f"{os.getpid()}:{uuid.uuid4().hex}", 0.0)
        self._renew_lease()
        try:
            yield state
        finally:
            self._reading = False
            self._end_lease()

    def _renew_lease(self) -> None:
        if self._lease is None or time.monotonic() - self._lease[2] < REDIS_READER_GRACE_SECONDS / 10:
            return
        key, member, _ = self._lease
        expiry = int((time.time() + REDIS_READER_GRACE_SECONDS / 5) * 1000)
        self.link.read(self.link.client.zadd, key, {member: expiry})
        self._lease = (key, member, time.monotonic())

    def _end_lease(self) -> None:
        key, member, _ = self._lease
        self._lease = None
        with contextlib.suppress(Exception):
            self.link.client.zrem(key, member)

    @contextlib.contextmanager
    def writing(self):
        """Adds and removes in place (each document whole or invisible); a full rebuild in a new generation switched at the end."""
        if self._write is not None:
            yield
            return
        self._write = _Write(self._serving())
        try:
            yield
            self._commit(self._write)
        except BaseException:
            self._abandon(self._write)
            raise
        finally:
            self._write = None

    def _check_lock(self) -> None:
        if self._lock_lost.is_set():
            raise DatabaseError(f"{self.location}: the writer lock expired while this process was writing "
                                "(the Redis server was unreachable too long); nothing more is written: run it again")

    def _commit(self, write: _Write) -> None:
        """Counts, then catalogue entries (documents appear and disappear), file states, meta, the pointer; then cleanup."""
        self._check_lock()
        self.link.write(self._publish, write)
        if write.files is not None:
            self._write_file_states(write.generation, write.files)
        if write.meta:
            payload = {k: _json(v) for k, v in write.meta.items()}
            self.link.write(self.link.client.hset, self.keys.of(write.generation, "meta"), mapping=payload)
        old = self._serving()
        self.link.write(self.link.run, [(("EVAL", _SWITCH, 3, self.keys.lock, self.keys.current, self.keys.version,
                                          self._lock_value or "", write.generation), self.keys.lock)])
        if write.deleted:
            self.link.write(self._purge, write.generation, {i: "uncounted" for i in write.deleted})
        if write.fresh and old != write.generation:
            self._retire(old)

    def _publish(self, write: _Write) -> None:
        gen, added, deleted = write.generation, write.added, write.deleted
        pending = self.keys.of(gen, "pending")
        if write.recount is not None:
            self._switch_df(gen, *write.recount)
        else:
            self._count(gen, [figures for _, figures in added.values()], +1)
            self._count(gen, list(self._stored_figures(gen, list(deleted)).values()), -1)
        for ids, stage in ((added, "add+counted"), (deleted, "delete+uncounted")):
            if ids:
                self.link.client.hset(pending, mapping={i: stage for i in ids})
        self.link.run([(("HSET", self.keys.shard(gen, "c", i % SHARDS), i, _json(record)), None) for i, (record, _) in added.items()]
                      + [(("HDEL", self.keys.shard(gen, "c", i % SHARDS), i), None) for i in deleted])
        self._index_names(gen, [(i, _record_document(i, r)) for i, r in deleted.items()], remove=True)
        self._index_names(gen, [(i, _record_document(i, r)) for i, (r, _) in added.items()])
        if added:
            self.link.client.hdel(pending, *added)

    def _abandon(self, write: _Write) -> None:
        """A failed block: its new documents are removed, its deletions forgotten (or by the next writer), a new generation deleted."""
        with contextlib.suppress(Exception):
            if write.fresh:
                self._delete_generation(write.generation)
                return
            if write.added:
                self._purge(write.generation, {i: "add" for i in write.added})
            if write.deleted:
                self.link.client.hdel(self.keys.of(write.generation, "pending"), *write.deleted)

    def _retire(self, gen: int) -> None:
        """Delete a generation scans no longer read: wait for their leases to end (bounded), then unlink its keys."""
        deadline = time.monotonic() + REDIS_READER_GRACE_SECONDS
        while time.monotonic() < deadline:
            now_ms = int(time.time() * 1000)
            if not self.link.read(self.link.client.zcount, self.keys.readers(gen), now_ms, "+inf"):
                break
            time.sleep(0.2)
        self._delete_generation(gen)

    def _delete_generation(self, gen: int) -> int:
        """Unlink every key of a generation: names known from its counters, postings listed per hash tag's slot."""
        names = [self.keys.of(gen, what) for what in ("meta", "ids", "state", "pending")]
        last_id = int(self.link.client.get(self.keys.of(gen, "ids")) or 0)
        names += [self.keys.document(gen, i) for i in range(1, last_id + 1)]
        names += self._shard_names(gen, range(int(self.link.client.hget(self.keys.of(gen, "state"), "next_epoch") or 0) + 1))
        names += [k for tag in range(POSTING_TAGS) for k in self.link.keys_with_prefix(self.keys.posting_prefix(gen, tag))]
        deleted = self.link.unlink(names)
        self.link.client.delete(self.keys.readers(gen))
        self.link.client.srem(self.keys.generations, gen)
        return deleted

    def _shard_names(self, gen: int, epochs) -> list:
        names = [self.keys.shard(gen, kind, s) for kind in "csn" for s in range(SHARDS)]
        return names + [self.keys.shard(gen, kind, s, e) for kind in "hf" for e in epochs for s in range(SHARDS)]

    def _stale_epochs(self, gen: int) -> int:
        """Frequency and file shards of epochs a killed writer wrote but never switched to."""
        state = {k.decode(): int(v) for k, v in self.link.client.hgetall(self.keys.of(gen, "state")).items()}
        live = {state.get("df_epoch", 0), state.get("files_epoch", 0)}
        stale = [e for e in range(state.get("next_epoch", 0) + 1) if e not in live]
        names = [self.keys.shard(gen, kind, s, e) for kind in "hf" for e in stale for s in range(SHARDS)]
        return self.link.unlink(names) if names else 0

    def writer_lock(self, command: str):
        return _WriterLock(self, command)

    def waiting(self, seconds: float):
        """Redis writes never wait for another writer (only the writer lock excludes, and it refuses at once)."""
        return contextlib.nullcontext()

    def _clean_leftovers(self) -> dict:
        """What killed writers left: partial generations deleted, documents in flight finished or removed."""
        serving = self._serving()
        stale = [int(g) for g in self.link.read(self.link.client.smembers, self.keys.generations) if int(g) != serving]
        keys_deleted = sum(self._delete_generation(g) for g in stale)
        return {"stale_generations": len(stale), "stale_keys": keys_deleted, "pending_documents": self._finish_pending(serving)}

    # ------------------------------------------------------------------ settings
    def meta(self) -> dict:
        raw = self.link.read(self.link.client.hgetall, self.keys.of(self._gen(), "meta"))
        stored = {k.decode(): json.loads(v) for k, v in raw.items()}
        if self._write is not None:
            stored.update(self._write.meta)
        return stored

    def set_meta(self, key: str, value) -> None:
        if self._write is not None:
            self._write.meta[key] = value
        else:
            self.link.write(self.link.client.hset, self.keys.of(self._gen(), "meta"), key, _json(value))

    def ensure_signature(self, signature: dict, explicit: bool) -> dict:
        """Record the index settings in a new corpus, or check them against the stored ones; returns the stored ones."""
        stored = self.meta().get("index")
        if stored is None:
            for key, value in (("index", signature), ("schema_version", SCHEMA_VERSION), ("created_at", _now())):
                self.set_meta(key, value)
            return signature
        if explicit and stored != signature:
            differences = ", ".join(f"{k}={stored.get(k)!r} (asked {signature.get(k)!r})"
                                    for k in sorted(signature) if stored.get(k) != signature.get(k))
            raise SettingsMismatch(f"{self.location}: the index was built with other settings: {differences}. "
                                   "Use the settings it was built with, or rebuild it with `chachong rebuild --full`.")
        return stored

    # ------------------------------------------------------------------ documents: writing
    def _writer(self) -> _Write:
        if self._write is None:
            raise DatabaseError(f"{self.location}: a change to the corpus outside writing() (a bug in chachong)")
        self._check_lock()
        return self._write

    def insert_documents(self, entries: list[IndexEntry], ids: list | None = None) -> list[int]:
        """Store documents' data and postings now; they appear (catalogue, counts, names) when the block commits.
        `ids`: per entry, the id to store it under, or None for the next never given (see Store.insert_documents)."""
        write = self._writer()
        if not entries:
            return []
        ids = self._ids_for(write.generation, ids or [None] * len(entries))
        for start in range(0, len(entries), DOCS_PER_BATCH):
            batch = list(zip(ids[start:start + DOCS_PER_BATCH], entries[start:start + DOCS_PER_BATCH]))
            self.link.write(self._write_documents, write.generation, batch)
            write.added.update({doc_id: (_catalogue_record(entry), _counted(entry)) for doc_id, entry in batch})
        return ids

    def _ids_for(self, gen: int, given: list) -> list[int]:
        """The given ids, and new ones from the generation's counter for the others (first raised past every given
        id, so that no later document gets one of them)."""
        counter = self.keys.of(gen, "ids")
        highest = max((i for i in given if i is not None), default=0)
        if highest and highest > int(self.link.read(self.link.client.get, counter) or 0):  # an add gives none: no read
            self.link.write(self.link.client.set, counter, highest)
        news = sum(i is None for i in given)
        last = self.link.write(self.link.client.incrby, counter, news)
        fresh = iter(range(last - news + 1, last + 1))
        return [next(fresh) if i is None else i for i in given]

    def _write_documents(self, gen: int, batch: list) -> None:
        self.link.client.hset(self.keys.of(gen, "pending"), mapping={doc_id: "add" for doc_id, _ in batch})
        self.link.run([(("HSET", self.keys.document(gen, doc_id), *_flat(_document_fields(entry))), None)
                       for doc_id, entry in batch])
        self._append_postings(gen, batch)

    def _append_postings(self, gen: int, batch: list) -> None:
        """One APPEND per distinct band key of the batch, in one script call per hash tag (≤ REDIS_WRITE_BATCH_KEYS keys)."""
        tagged, records = _batch_postings(batch)
        if not len(tagged):
            return
        distinct, starts, counts = np.unique(tagged, return_index=True, return_counts=True)
        keys = (distinct & 0xFFFFFFFF).astype(">u4")
        calls = []
        for tag, a, b in _tag_ranges(distinct):
            prefix = self.keys.posting_prefix(gen, tag)
            for c in range(a, b, REDIS_WRITE_BATCH_KEYS):
                d = min(c + REDIS_WRITE_BATCH_KEYS, b)
                calls.append((("EVAL", _APPEND, 1, prefix, keys[c:d].tobytes(), counts[c:d].astype(">u4").tobytes(),
                               records[starts[c]:starts[d - 1] + counts[d - 1]].tobytes()), prefix))
        self.link.run(calls)

    def _tag_calls(self, gen: int, script: str, keys, *arguments) -> tuple[list, list]:
        """One call of a posting script per hash tag (≤ REDIS_WRITE_BATCH_KEYS keys each) and the keys of each call."""
        tagged = np.unique(_tagged(np.asarray(keys, dtype=np.int64)))
        calls, groups = [], []
        for tag, a, b in _tag_ranges(tagged):
            prefix = self.keys.posting_prefix(gen, tag)
            for c in range(a, b, REDIS_WRITE_BATCH_KEYS):
                group = tagged[c:min(c + REDIS_WRITE_BATCH_KEYS, b)] & 0xFFFFFFFF
                calls.append((("EVAL", script, 1, prefix, group.astype(">u4").tobytes(), *arguments), prefix))
                groups.append(group)
        return calls, groups

    def _count(self, gen: int, figures: list, sign: int) -> None:
        """Segment document frequencies and totals of documents' (hashes, segments, characters, postings), added or taken away."""
        if not figures:
            return
        epoch = self._epoch(gen, "df_epoch")
        df: Counter = Counter()
        totals = Counter()
        for hashes, segments, chars, postings in figures:
            df.update(set(hashes))
            totals.update(documents=1, segments=segments, characters=chars, postings=postings)
        by_shard: dict = {}
        for h, n in df.items():
            by_shard.setdefault(h % SHARDS, []).extend((h, sign * n))
        calls = [(("EVAL", _COUNT, 1, self.keys.shard(gen, "h", s, epoch), *args), self.keys.shard(gen, "h", s, epoch))
                 for s, args in by_shard.items()]
        calls += [(("HINCRBY", self.keys.of(gen, "state"), field, sign * n), None) for field, n in totals.items()]
        self.link.run(calls)

    def _stored_figures(self, gen: int, doc_ids: list) -> dict:
        """id → (hashes, segments, characters, postings) from documents' stored data."""
        return {i: _counted(f) for i, f in self._stored_fields(gen, doc_ids, _FIGURE_FIELDS).items()}

    def _index_names(self, gen: int, docs: list, remove: bool = False) -> None:
        """sha256 → id and path → [ids] entries of (id, Document-or-record) items, added or removed."""
        commands = [(("HDEL" if remove else "HSET", self.keys.shard(gen, "s", _crc_shard(doc.sha256)), doc.sha256,
                      *([] if remove else [doc_id])), None) for doc_id, doc in docs]
        self.link.run(commands)
        self._update_paths(gen, [(doc.path, doc_id) for doc_id, doc in docs], remove)

    def _update_paths(self, gen: int, changes: list, remove: bool) -> None:
        paths = list(dict.fromkeys(path for path, _ in changes))
        current = self.link.run([(("HGET", self.keys.shard(gen, "n", _crc_shard(p)), _b(p)), None) for p in paths])
        lists = {p: json.loads(v) if v else [] for p, v in zip(paths, current)}
        for path, doc_id in changes:
            lists[path] = [i for i in lists[path] if i != doc_id] + ([] if remove else [doc_id])
        self.link.run([((("HSET", key, _b(p), json.dumps(sorted(ids))) if ids else ("HDEL", key, _b(p))), None)
                       for p, ids in lists.items() for key in [self.keys.shard(gen, "n", _crc_shard(p))]])

    def delete_documents(self, doc_ids) -> None:
        """Remove documents when the block commits (out of the catalogue first, then their counts, postings and data)."""
        write = self._writer()
        doc_ids = sorted(set(int(i) for i in doc_ids))
        fresh = [i for i in doc_ids if i in write.added]
        for i in fresh:
            del write.added[i]
        if fresh:
            self.link.write(self._purge, write.generation, {i: "add" for i in fresh})
        records = self._catalogue(write.generation, [i for i in doc_ids if i not in fresh])
        doomed = {i: r for i, r in records.items() if r is not None and i not in write.deleted}
        if doomed:
            self.link.write(self.link.client.hset, self.keys.of(write.generation, "pending"), mapping={i: "delete" for i in doomed})
            write.deleted.update(doomed)

    def _purge(self, gen: int, stages: dict) -> None:
        """Postings and data of documents out of the catalogue, and their counts unless they were never or already taken back."""
        stored = self._stored_fields(gen, list(stages), _FIGURE_FIELDS)
        counted = [_counted(f) for i, f in stored.items() if stages[i] in ("add+counted", "delete")]
        self._count(gen, counted, -1)
        self.link.client.hset(self.keys.of(gen, "pending"), mapping={i: "uncounted" for i in stages})
        keys = np.concatenate([_bands(f) for f in stored.values()] or [np.zeros(0, np.int64)])
        self.link.run(self._tag_calls(gen, _FILTER, keys, np.array(sorted(stages), dtype=">u4").tobytes())[0])
        self.link.unlink([self.keys.document(gen, i) for i in stages])
        self.link.client.hdel(self.keys.of(gen, "pending"), *stages)

    def _finish_pending(self, gen: int) -> int:
        """Documents a killed writer left in flight: an add not yet catalogued is removed, a delete not yet
        carried out is dropped (the document stays), a delete already out of the catalogue is finished."""
        raw = self.link.read(self.link.client.hgetall, self.keys.of(gen, "pending"))
        pending = {int(k): v.decode() for k, v in raw.items()}
        if not pending:
            return 0
        records = self._catalogue(gen, list(pending))
        kept = [i for i in pending if records.get(i) is not None]
        if kept:
            self.link.write(self.link.client.hdel, self.keys.of(gen, "pending"), *kept)
        doomed = {i: stage for i, stage in pending.items() if i not in kept}
        if doomed:
            self.link.write(self._purge, gen, doomed)
        return len(doomed)

    def update_meta(self, doc_id: int, meta: DocumentMeta) -> None:
        self._rewrite_record(doc_id, meta=meta.as_dict())

    def move_document(self, doc_id: int, path: str) -> None:
        write = self._writer()
        old = self._catalogue(write.generation, [doc_id]).get(doc_id)
        if old is None:
            return
        if doc_id not in write.added:
            self.link.write(self._update_paths, write.generation, [(old["path"], doc_id)], True)
            self.link.write(self._update_paths, write.generation, [(path, doc_id)], False)
        self._rewrite_record(doc_id, path=path)

    def _rewrite_record(self, doc_id: int, **changes) -> None:
        """Metadata and path changes are written at once (not held for the commit), or into a document not yet shown."""
        write = self._writer()
        if doc_id in write.added:
            write.added[doc_id][0].update(changes)
            return
        record = self._catalogue(write.generation, [doc_id]).get(doc_id)
        if record is not None:
            record.update(changes)
            self.link.write(self.link.client.hset, self.keys.shard(write.generation, "c", doc_id % SHARDS), doc_id, _json(record))

    # ------------------------------------------------------------------ metadata people gave (outlives documents and generations)
    def remember_given_meta(self, entries, origin: str) -> int:
        """Record the known fields of (sha256, path, DocumentMeta) entries as said by `origin`; returns how many were written
        (when a statement is news: store/base.py RESTATED_ORIGINS).

        Written at once (not held for the commit): what people said is kept even when the command then fails."""
        statements = list(_statements(entries, origin))
        written = [(st, place) for st, place in zip(statements, self._places(statements)) if place is not None]
        if not written:
            return 0
        news = sum(place == NEWS for _, place in written)
        last = int(self.link.write(self.link.client.incrby, self.keys.given_seq, news)) if news else 0
        fresh = iter(range(last - news + 1, last + 1))
        commands = []
        for (sha, path, field, value, origin), place in written:
            said = _json([value, next(fresh) if place == NEWS else place])
            commands += [(("HSET", self.keys.given_by_sha(sha), _json([path, field, origin]), said), None),
                         (("HSET", self.keys.given_by_path(path), _json([sha, field, origin]), said), None),
                         (("SADD", self.keys.given_index(_crc_shard(sha)), sha), None)]
        self.link.write(self.link.run, commands)
        return len(written)

    def _places(self, statements: list) -> list:
        """Each statement's place in time (store/base.py place_in_time): what its origin said, what was said before."""
        recorded = [None if old is None else json.loads(old) for old in self._said(statements)]
        unsaid = [st for st, old in zip(statements, recorded) if old is None]
        repeats = repeated_seqs(self.given_meta_rows([st[0] for st in unsaid], [st[1] for st in unsaid]), unsaid) if unsaid else {}
        return [place_in_time(st[4], st[3], old, repeats.get(st[:4], ())) for st, old in zip(statements, recorded)]

    def _said(self, statements: list) -> list:
        return self.link.read(self.link.run, [(("HGET", self.keys.given_by_sha(sha), _json([path, field, origin])), None)
                                              for sha, path, field, _, origin in statements])

    def given_meta_unchanged(self, entries, origin: str) -> bool:
        statements = list(_statements(entries, origin))
        return all(old is not None and json.loads(old)[0] == st[3] for st, old in zip(statements, self._said(statements)))

    def given_meta_rows(self, shas=None, paths=None) -> list[tuple]:
        """(sha256, path, field, value, seq) of what people said (about these contents or paths; None: everything), oldest first."""
        if shas is None and paths is None:
            replies = self.link.read(self.link.run, [(("SMEMBERS", self.keys.given_index(s)), None) for s in range(SHARDS)])
            shas = [sha.decode() for reply in replies for sha in reply]
        shas, paths = list(dict.fromkeys(shas or ())), list(dict.fromkeys(paths or ()))
        replies = self.link.read(self.link.run, [(("HGETALL", self.keys.given_by_sha(sha)), None) for sha in shas]
                                 + [(("HGETALL", self.keys.given_by_path(path)), None) for path in paths])
        rows = {}
        for sha, reply in zip(shas, replies):
            for key, said in _pairs(reply):
                path, field, origin = json.loads(key)
                rows[(sha, path, field, origin)] = json.loads(said)
        for path, reply in zip(paths, replies[len(shas):]):
            for key, said in _pairs(reply):
                sha, field, origin = json.loads(key)
                rows[(sha, path, field, origin)] = json.loads(said)
        found = [(sha, path, field, value, seq) for (sha, path, field, _), (value, seq) in rows.items()]
        return sorted(found, key=lambda row: row[4])

    # ------------------------------------------------------------------ documents: reading
    def _catalogue(self, gen: int, doc_ids: list) -> dict:
        """id → catalogue record (dict) or None, for ids in any order (a writer sees its own block's changes)."""
        replies = self.link.read(self.link.run, [(("HGET", self.keys.shard(gen, "c", i % SHARDS), i), None) for i in doc_ids])
        records = {i: json.loads(r) if r else None for i, r in zip(doc_ids, replies)}
        return self._overlaid(records, doc_ids)

    def _overlaid(self, records: dict, doc_ids) -> dict:
        write = self._write
        if write is None:
            return records
        for i in doc_ids:
            if i in write.added:
                records[i] = dict(write.added[i][0])
            elif i in write.deleted:
                records[i] = None
        return records

    def _all_records(self) -> dict:
        gen = self._gen()
        replies = self.link.read(self.link.run, [(("HGETALL", self.keys.shard(gen, "c", s)), None) for s in range(SHARDS)])
        records = {int(k): json.loads(v) for reply in replies for k, v in _pairs(reply)}
        if self._write is not None:
            records = self._overlaid(records, list(records) + list(self._write.added))
        return dict(sorted((i, r) for i, r in records.items() if r is not None))

    def _stored_fields(self, gen: int, doc_ids: list, fields: tuple) -> dict:
        """id → {field: bytes} of documents' stored data (ids without data are left out)."""
        replies = self.link.read(self.link.run, [(("HMGET", self.keys.document(gen, i), *fields), None) for i in doc_ids])
        return {i: dict(zip(fields, r)) for i, r in zip(doc_ids, replies) if r[0] is not None}

    def document(self, doc_id: int) -> Document:
        gen = self._gen()
        record = self._catalogue(gen, [doc_id])[doc_id]
        stored = self._stored_fields(gen, [doc_id], ("text",)).get(doc_id)
        if record is None or stored is None:
            raise DatabaseError(f"{self.location}: no document with id {doc_id}")
        return _record_document(doc_id, record, _unpack_text(stored["text"]))

    def document_id_by_sha(self, sha256: str) -> int | None:
        write = self._write
        if write is not None:
            mine = [i for i, (record, _) in write.added.items() if record["sha256"] == sha256]
            if mine:
                return mine[0]
        found = self.link.read(self.link.client.hget, self.keys.shard(self._gen(), "s", _crc_shard(sha256)), sha256)
        found = int(found) if found is not None else None
        return None if write is not None and found in write.deleted else found

    def document_ids_by_path(self, path: str) -> list[int]:
        found = self.link.read(self.link.client.hget, self.keys.shard(self._gen(), "n", _crc_shard(path)), _b(path))
        ids = json.loads(found) if found else []
        write = self._write
        if write is not None:
            ids = [i for i in ids if i not in write.deleted] + [i for i, (r, _) in write.added.items() if r["path"] == path]
        return sorted(ids)

    def documents(self) -> list[tuple[int, str, str]]:
        return [(i, r["path"], r["sha256"]) for i, r in self._all_records().items()]

    def documents_with_meta(self) -> list[tuple[int, str, DocumentMeta]]:
        return [(i, r["path"], _meta(r["meta"])) for i, r in self._all_records().items()]

    def document_metas(self) -> dict[int, DocumentMeta]:
        return {i: _meta(r["meta"]) for i, r in self._all_records().items()}

    def document_count(self) -> int:
        write = self._write
        if write is not None and write.recount:
            return write.recount[1]["documents"]
        stored = int(self.link.read(self.link.client.hget, self.keys.of(self._gen(), "state"), "documents") or 0)
        return stored if write is None else stored + len(write.added) - len(write.deleted)

    def source_ref(self, doc_id: int) -> SourceRef:
        record = self._catalogue(self._gen(), [doc_id])[doc_id]
        if record is None:
            raise DatabaseError(f"{self.location}: no document with id {doc_id}")
        meta = record["meta"]
        return SourceRef(path=record["path"], author=meta["author"], unit=meta["unit"], year=meta["year"],
                         doc_id=doc_id, meeting=meta["meeting"], team=meta["team"])

    # ------------------------------------------------------------------ the index, as the scan reads it
    def postings(self, keys, cap: int) -> Postings:
        """(document, segment) pairs of each band key, the first `cap` of a hot one; one script call per hash tag."""
        self._renew_lease()
        calls, groups = self._tag_calls(self._gen(), _READ, list(keys), 8 * int(cap))
        return _parse_postings(groups, self.link.read(self.link.run, calls))

    def segment_total(self) -> int:
        if self._write is not None and self._write.recount:
            return self._write.recount[1]["segments"]
        return int(self.link.read(self.link.client.hget, self.keys.of(self._gen(), "state"), "segments") or 0)

    def segment_document_frequency(self, hashes) -> dict[int, int]:
        gen = self._gen()
        epoch = self._epoch(gen, "df_epoch")
        by_shard: dict = {}
        for h in set(int(h) for h in hashes):
            by_shard.setdefault(h % SHARDS, []).append(h)
        replies = self.link.read(self.link.run, [(("HMGET", self.keys.shard(gen, "h", s, epoch), *group), None)
                                                 for s, group in by_shard.items()])
        return {h: int(n) for group, reply in zip(by_shard.values(), replies) for h, n in zip(group, reply) if n is not None}

    def layouts(self, doc_ids: list[int]) -> dict[int, tuple[Document, object]]:
        """(document, layout) of visible documents (in the catalogue), by id."""
        from detector.layout import decode as decode_layout

        self._renew_lease()
        gen = self._gen()
        doc_ids = list(dict.fromkeys(int(i) for i in doc_ids))
        records = self._catalogue(gen, doc_ids)
        stored = self._stored_fields(gen, [i for i in doc_ids if records[i] is not None], ("text", "layout"))
        found = {}
        for doc_id, fields in stored.items():
            doc = _record_document(doc_id, records[doc_id], _unpack_text(fields["text"]))
            found[doc_id] = (doc, decode_layout(fields["layout"], doc.text))
        return found

    def contents(self, doc_ids: list[int]) -> dict:
        """(metadata, segment contents) of visible documents, by id; a document stored without them (by an older
        chachong): its layout."""
        from detector.layout import decode_contents

        self._renew_lease()
        gen = self._gen()
        doc_ids = list(dict.fromkeys(int(i) for i in doc_ids))
        records = self._catalogue(gen, doc_ids)
        visible = [i for i in doc_ids if records[i] is not None]
        stored = self._stored_fields(gen, visible, ("contents",))
        found = {i: (_meta(records[i]["meta"]), decode_contents(fields["contents"])) for i, fields in stored.items()}
        found.update(contents_from_layouts(self, [i for i in visible if i not in found]))
        return found

    def _epoch(self, gen: int, field: str) -> int:
        return int(self.link.read(self.link.client.hget, self.keys.of(gen, "state"), field) or 0)

    # ------------------------------------------------------------------ rebuild support
    def file_states(self) -> dict:
        write = self._write
        if write is not None and write.files is not None:
            return dict(write.files)
        gen = self._gen()
        epoch = self._epoch(gen, "files_epoch")
        replies = self.link.read(self.link.run, [(("HGETALL", self.keys.shard(gen, "f", s, epoch)), None) for s in range(SHARDS)])
        return {k.decode("utf-8", "surrogateescape"): tuple(json.loads(v)) for reply in replies for k, v in _pairs(reply)}

    def replace_file_states(self, states: dict) -> None:
        self._writer().files = dict(states)  # written when the block commits: a killed run leaves the old ones

    def _write_file_states(self, gen: int, states: dict) -> None:
        old = self._epoch(gen, "files_epoch")
        epoch = int(self.link.write(self.link.client.hincrby, self.keys.of(gen, "state"), "next_epoch", 1))
        by_shard: dict = {}
        for path, state in states.items():
            by_shard.setdefault(_crc_shard(path), {})[_b(path)] = json.dumps(list(state))
        self.link.write(self._hset_chunks, [(self.keys.shard(gen, "f", s, epoch), fields) for s, fields in by_shard.items()])
        self.link.write(self.link.client.hset, self.keys.of(gen, "state"), "files_epoch", epoch)
        self.link.unlink([self.keys.shard(gen, "f", s, old) for s in range(SHARDS)])

    def _hset_chunks(self, items: list) -> None:
        commands = [(("HSET", key, *_flat(list(fields.items())[i:i + 1000])), None)
                    for key, fields in items for i in range(0, len(fields), 1000)]
        for i in range(0, len(commands), 200):
            self.link.run(commands[i:i + 200])

    def clear_index(self) -> None:
        """Start a new, empty generation (a full rebuild); the serving one stays until the block commits."""
        write = self._writer()
        if write.fresh:
            return
        old = write.generation
        gen = int(self.link.write(self.link.client.incr, self.keys.next))
        self.link.write(self.link.client.sadd, self.keys.generations, gen)
        # ids go on from the highest given: the rebuild stores documents under the ids they had, new ones above
        given = self.link.read(self.link.client.get, self.keys.of(old, "ids"))
        self.link.write(self.link.client.set, self.keys.of(gen, "ids"), int(given or 0))
        write.meta = {**self._meta_of(old), **write.meta}
        if write.files is None:
            write.files = self.file_states()
        write.generation, write.fresh = gen, True

    def _meta_of(self, gen: int) -> dict:
        raw = self.link.read(self.link.client.hgetall, self.keys.of(gen, "meta"))
        return {k.decode(): json.loads(v) for k, v in raw.items()}

    def recount_follows(self) -> None:
        """Nothing to skip: inserts keep no counts that a recount redoes."""

    def recount_segment_df(self) -> int:
        """Segment document frequencies and totals recounted from the stored documents (this block's included), under a new epoch."""
        write = self._writer()
        gen = write.generation
        df, totals = self._recounted(gen, list(self._all_records()))
        epoch = int(self.link.write(self.link.client.hincrby, self.keys.of(gen, "state"), "next_epoch", 1))
        by_shard: dict = {}
        for h, n in df.items():
            by_shard.setdefault(h % SHARDS, {})[h] = n
        self.link.write(self._hset_chunks, [(self.keys.shard(gen, "h", s, epoch), fields) for s, fields in by_shard.items()])
        write.recount = (epoch, totals)
        return len(df)

    def _switch_df(self, gen: int, epoch: int, totals: dict) -> None:
        old = self._epoch(gen, "df_epoch")
        self.link.client.hset(self.keys.of(gen, "state"), mapping={"df_epoch": epoch, **totals})
        self.link.unlink([self.keys.shard(gen, "h", s, old) for s in range(SHARDS)])

    def compact(self) -> dict:
        """Redis frees memory itself; here: leftovers of killed writers are deleted."""
        done = self._clean_leftovers()
        done["stale_shard_keys"] = self.link.write(self._stale_epochs, self._serving())
        return done

    def settle(self, announce=None) -> bool:
        """Nothing waits to be merged: a batch appends its postings to each band key's string."""
        return False

    def stats(self) -> dict:
        gen = self._gen()
        state = {k.decode(): v for k, v in self.link.read(self.link.client.hgetall, self.keys.of(gen, "state")).items()}
        return {**{k: int(state.get(k, 0)) for k in ("documents", "characters", "segments", "postings")},
                "database_bytes": self.link.read(self.link.memory), "settings": self.meta().get("index"),
                "backend": "redis-cluster" if self.link.cluster else "redis", "generation": gen}

    def index_problems(self) -> list[str]:
        """Documents in flight, catalogue entries without data, totals that disagree with the catalogue."""
        gen = self._gen()
        problems = []
        pending = self.link.read(self.link.client.hlen, self.keys.of(gen, "pending"))
        if pending:
            problems.append(f"{_with_noun(pending, 'document')} {'was' if pending == 1 else 'were'} left half-written or half-deleted "
                            "(the next add, remove or rebuild cleans them)")
        records = self._all_records()
        stored = self._stored_fields(gen, list(records), ("chars",))
        if len(stored) != len(records):
            missing = len(records) - len(stored)
            problems.append(f"{_with_noun(missing, 'catalogued document')} {'has' if missing == 1 else 'have'} no stored text; "
                            "run `chachong rebuild --full`")
        if self.document_count() != len(records):
            problems.append(f"the totals count {self.document_count()} documents, the catalogue {len(records)}; "
                            "run `chachong rebuild --full`")
        return problems

    def problems(self) -> list[str]:
        """index_problems, and the postings, segment frequencies and totals against a recount from the stored documents."""
        gen = self._gen()
        problems = [f"the Redis server {node} drops keys when it reaches its maxmemory: part of the index can vanish "
                    "without an error; set maxmemory-policy noeviction (a full server then refuses writes, and chachong "
                    "says so)" for node in self.link.evicting_nodes()]
        problems += self.index_problems()
        if not self.meta().get("index"):
            problems.append("the index settings are not recorded; rebuild with `chachong rebuild --full`")
        df, totals = self._recounted(gen, list(self._all_records()))
        state = {k.decode(): int(v) for k, v in self.link.read(self.link.client.hgetall, self.keys.of(gen, "state")).items()}
        for field, n in totals.items():
            if state.get(field, 0) != n:
                problems.append(f"the totals count {state.get(field, 0)} {field}, the stored documents {n}; "
                                "run `chachong rebuild --full`")
        stored_df = self.segment_document_frequency(df)
        wrong = sum(1 for h, n in df.items() if stored_df.get(h) != n)
        if wrong:
            problems.append(f"{wrong} segment document frequencies differ from a recount; `chachong rebuild` recounts them")
        records = sum(self._posting_bytes(gen)) // 8
        if records != totals["postings"]:
            problems.append(f"the postings hold {records} records, the stored documents own {totals['postings']}; "
                            "run `chachong rebuild --full`")
        return problems

    def _recounted(self, gen: int, ids: list) -> tuple[Counter, dict]:
        df: Counter = Counter()
        totals = Counter(documents=0, segments=0, characters=0, postings=0)
        for start in range(0, len(ids), 500):
            for hashes, segments, chars, postings in self._stored_figures(gen, ids[start:start + 500]).values():
                df.update(set(hashes))
                totals.update(documents=1, segments=segments, characters=chars, postings=postings)
        return df, dict(totals)

    def _posting_bytes(self, gen: int) -> list[int]:
        keys = [k for tag in range(POSTING_TAGS) for k in self.link.read(self.link.keys_with_prefix, self.keys.posting_prefix(gen, tag))]
        return [n for i in range(0, len(keys), 5000)
                for n in self.link.read(self.link.run, [(("STRLEN", k), None) for k in keys[i:i + 5000]])]

    def backup(self, out):
        raise DatabaseError(f"{self.location}: `chachong backup` copies a SQLite database; back up a Redis Cluster with "
                            "Redis's own persistence (an RDB snapshot, BGSAVE, or AOF on every master)")

    # ------------------------------------------------------------------ scan history (kept across generations)
    def record_scan(self, scan: dict, reports: list[dict]) -> int:
        """Written with retries across a failover: a scan that succeeded is not lost for want of its history."""
        scan_id = int(self.link.idempotent(self.link.client.incr, self.keys.scan_next))
        fields = {"scan": _json(scan)}
        fields.update({f"r{i}": zlib.compress(_json(r).encode(), 6) for i, r in enumerate(reports)})
        self.link.idempotent(self.link.client.hset, self.keys.scan(scan_id), mapping=fields)
        summary = {k: v for k, v in scan.items() if k not in ("settings", "options")}
        self.link.idempotent(self.link.client.hset, self.keys.scans, scan_id, _json(summary))
        return scan_id

    def scans(self) -> list[dict]:
        rows = self.link.read(self.link.client.hgetall, self.keys.scans)
        return [{"id": int(k), **json.loads(v)} for k, v in sorted(rows.items(), key=lambda kv: -int(kv[0]))]

    def scan_record(self, scan_id: int):
        if not self.link.read(self.link.client.hexists, self.keys.scans, scan_id):
            return None
        fields = self.link.read(self.link.client.hgetall, self.keys.scan(scan_id))
        scan = {"id": scan_id, **json.loads(fields[b"scan"])}
        reports = [json.loads(zlib.decompress(fields[f"r{i}".encode()])) for i in range(len(fields) - 1)]
        return scan, reports


class _WriterLock:
    """The writer lock: a key with an expiry, renewed by a thread while held; a dead writer's lock frees itself."""

    def __init__(self, store: RedisStore, command: str):
        self.store, self.command = store, command
        self.stop = threading.Event()

    def __enter__(self):
        store = self.store
        value = json.dumps({"token": uuid.uuid4().hex, "pid": os.getpid(), "host": socket.gethostname(),
                            "command": self.command, "started": _now()})
        if not store.link.read(store.link.client.set, store.keys.lock, value, px=int(REDIS_LOCK_SECONDS * 1000), nx=True):
            raise IndexLocked(f"{store.location}: {self._holder()} is writing this index; this run stops without changing "
                              f"anything (try again when it has finished; a dead writer's lock expires within {REDIS_LOCK_SECONDS} s)")
        store._lock_value = value
        store._lock_lost.clear()
        threading.Thread(target=self._renew, daemon=True).start()
        try:
            store._clean_leftovers()
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    def _holder(self) -> str:
        raw = self.store.link.read(self.store.link.client.get, self.store.keys.lock)
        try:
            info = json.loads(raw)
            return f"another `chachong {info['command']}` (pid {info['pid']} on {info['host']}, started {info['started']})"
        except (TypeError, ValueError, KeyError):
            return "another chachong process"

    def _renew(self) -> None:
        store = self.store
        while not self.stop.wait(REDIS_LOCK_SECONDS / 3):
            try:
                renewed = store.link.client.eval(_RENEW, 1, store.keys.lock, store._lock_value, int(REDIS_LOCK_SECONDS * 1000))
            except Exception:  # noqa: BLE001 - unreachable for now: try again; the expiry decides
                continue
            if not renewed:
                store._lock_lost.set()
                return

    def __exit__(self, *exc):
        self.stop.set()
        store = self.store
        with contextlib.suppress(Exception):
            store.link.client.eval(_RELEASE, 1, store.keys.lock, store._lock_value)
        store._lock_value = None
        return False


# ---------------------------------------------------------------------- records
def _document_fields(entry: IndexEntry) -> dict:
    doc = entry.document
    keys = np.asarray(entry.keys, dtype=np.int64)
    return {"text": _pack_text(doc.text), "layout": entry.stored_layout(), "contents": entry.stored_contents(),
            "hashes": np.asarray(list(entry.hashes), dtype="<i8").tobytes(),
            "bands": keys.astype(">u4").tobytes(), "band_width": keys.shape[1] if keys.ndim == 2 else 0,
            "chars": doc.chars}


def _catalogue_record(entry: IndexEntry) -> dict:
    doc = entry.document
    return {"path": doc.path, "sha256": doc.sha256, "chars": doc.chars, "segments": len(entry.keys),
            "meta": doc.meta.as_dict(), "encoding": doc.encoding, "format": doc.format, "added_at": _now()}


def _statements(entries, origin: str):
    """(sha256, path, field, value, origin) of each known, not inferred metadata field of (sha256, path, DocumentMeta) entries."""
    for sha, path, meta in entries:
        for field in ("author", "unit", "year", "meeting", "team"):
            value = getattr(meta, field)
            if value is not None and field not in meta.inferred:
                yield sha, path, field, value, origin


def _record_document(doc_id: int, record: dict, text: str = "") -> Document:
    return Document(path=record["path"], text=text, sha256=record["sha256"], encoding=record.get("encoding"),
                    format=record.get("format") or "txt", meta=_meta(record["meta"]), id=doc_id)


def _meta(fields: dict) -> DocumentMeta:
    return DocumentMeta(author=fields["author"], unit=fields["unit"], year=fields["year"], meeting=fields["meeting"],
                        team=fields["team"], inferred=tuple(fields.get("inferred") or ()))


def _counted(item) -> tuple:
    """(segment hashes, segments, characters, postings) of an IndexEntry or of stored fields."""
    if isinstance(item, IndexEntry):
        keys = np.asarray(item.keys)
        return list(item.hashes), len(keys), item.document.chars, len(_segment_keys(keys))
    width = int(item.get("band_width") or 0)
    postings = len(_segment_keys(_bands(item).reshape(-1, width))) if width else 0
    hashes = np.frombuffer(item["hashes"], dtype="<i8").tolist() if item.get("hashes") else []
    return hashes, len(hashes), int(item.get("chars") or 0), postings


def _bands(fields: dict) -> np.ndarray:
    return np.frombuffer(fields.get("bands") or b"", dtype=">u4").astype(np.int64)


def _segment_keys(keys: np.ndarray) -> np.ndarray:
    """A document's band keys as `key << 20 | segment`, each (key, segment) once (a key twice in one segment counts once)."""
    keys = np.asarray(keys, dtype=np.int64)
    if keys.size == 0:
        return np.zeros(0, dtype=np.int64)
    segments = np.repeat(np.arange(len(keys), dtype=np.int64), keys.shape[1])
    return np.unique((keys.ravel() << 20) | segments)


def _batch_postings(batch: list) -> tuple[np.ndarray, np.ndarray]:
    """Tagged band keys (`_tagged`) and their (document, segment) records for a batch, sorted by tag, key,
    document, segment: each tag's keys and each key's records are contiguous."""
    key_blocks, record_blocks = [], []
    for doc_id, entry in batch:
        combined = _segment_keys(entry.keys)
        key_blocks.append(combined >> 20)
        records = np.empty(len(combined), dtype=_RECORD)
        records["doc"], records["segment"] = doc_id, combined & 0xFFFFF
        record_blocks.append(records)
    if not key_blocks:
        return np.zeros(0, np.int64), np.zeros(0, _RECORD)
    tagged = _tagged(np.concatenate(key_blocks))
    records = np.concatenate(record_blocks).astype(_RECORD)
    order = np.argsort(tagged, kind="stable")  # documents come in id order: each key's records stay in it
    return tagged[order], records[order]


def _tagged(keys: np.ndarray) -> np.ndarray:
    """tag << 32 | key: sorting these groups band keys by hash tag, then by key."""
    return ((keys % POSTING_TAGS) << 32) | keys


def _tag_ranges(tagged: np.ndarray):
    """(tag, start, end) of each run of one tag in sorted tagged keys."""
    tags = tagged >> 32
    bounds = [0, *(np.flatnonzero(np.diff(tags)) + 1).tolist(), len(tagged)]
    for a, b in zip(bounds, bounds[1:]):
        if b > a:
            yield int(tags[a]), a, b


def _parse_postings(groups: list, replies: list) -> Postings:
    """Postings from the read script's replies: per key (total bytes, returned bytes), then the records."""
    keys, pairs, counts = [], [], {}
    for group, reply in zip(groups, replies):
        head = np.frombuffer(reply, dtype=">u4", count=2 * len(group)).reshape(-1, 2).astype(np.int64)
        keys.append(np.repeat(group, head[:, 1] // 8))
        pairs.append(np.frombuffer(reply, dtype=">u4", offset=8 * len(group)).reshape(-1, 2).astype(np.int64))
        found = head[:, 0] > 0
        counts.update(zip(group[found].tolist(), (head[found, 0] // 8).tolist()))
    if not counts:
        return Postings.empty()
    return Postings(np.concatenate(keys), np.concatenate(pairs), counts)


def _pairs(reply) -> list:
    return list(reply.items()) if isinstance(reply, dict) else list(zip(reply[::2], reply[1::2]))


def _flat(items) -> list:
    return [x for item in (items.items() if isinstance(items, dict) else items) for x in item]


def _pack_text(text: str) -> bytes:
    return compress(text.encode("utf-8"))


def _unpack_text(packed: bytes) -> str:
    return decompress(packed).decode("utf-8")  # zstd; a zlib stream written by an older chachong reads too


def _now() -> str:
    return datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")


def _with_noun(n: int, noun: str) -> str:
    """"1 document", "2 documents": a count with its noun (the check's problem lines)."""
    return f"{n} {noun}{'' if n == 1 else 's'}"
