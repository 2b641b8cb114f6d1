"""Defaults and validated settings, in one place: every threshold the detector uses lives here."""

from __future__ import annotations

import dataclasses
import functools
import json
from functools import cached_property
from pathlib import Path

from detector.errors import SettingsError

# Version of what turns text into index keys (normaliser, segmenter, band-key layout): an index built by
# another version must be rebuilt (`chachong rebuild --full`). 2: …-style punctuation kept, 31-bit band keys;
# 3: a piece with no punctuation to cut at is cut into equal runs of at most max_segment_chars;
# 4: every document stores its segment layout (scans no longer re-normalise sources).
NORMALISER_VERSION = 4
KEY_BITS = 31  # band keys fit SQLite's 4-byte integers; a chance collision only adds a candidate that is verified
SHINGLINGS = ("char2", "char3", "jieba")
# a rebuild that would remove more than this share of the stored documents, at least REBUILD_GUARD_MIN_GONE of them
# (or all, from an archive with no file), changes nothing and fails: an unmounted share or a half-done copy, more likely
# than an archive emptied on purpose (`rebuild --allow-mass-removal` does it)
REBUILD_MAX_GONE_SHARE = 0.5
REBUILD_GUARD_MIN_GONE = 10
# Normalising removes template-site watermarks in rounds until none is left (detector/normalize.py): a watermark
# that only forms once the one inside it is removed ("稿子" * k + "铺" * k) takes k rounds, each a pass over the whole
# text, so a crafted 100k-character submission would take minutes in every process that reads it. Real texts take
# 1 round (no watermark) or 2 (the seeds, the bundled corpus, 19,876 news items and 88 government reports: never
# more); 3 when a removal joins a second mark. A text that needs more rounds than this is refused as crafted:
# 10 rounds of a 100,000-character text take under 0.1 s, of a 1,000,000-character one (max_document_chars) 0.7–1 s,
# about what fingerprinting a real text of that length takes.
MAX_NORMALIZE_ROUNDS = 10
HISTORY_WAIT_SECONDS = 10  # a scan waits this long for a writer before it gives up recording its history (with a warning)
MIN_YEAR, MAX_YEAR = 1949, 2100  # years a report can be for (manifest rows and --year outside are refused)

# SQLite postings (detector/store/sqlite.py): new postings go to a small table of rows, merged into the packed lists
# (sqlite_postings.py). A scan lists a recent key's postings row by row, at about twice a packed key's cost; a merge
# rewrites every list it appends to (a boilerplate key's long one each time), so merges grow with the corpus; one large
# merge costs under half of the same rows merged a batch or two at a time, so a command merges inside only at the first
# threshold and applies the share rule once, at its end (SqliteStore.settle)
RECENT_POSTINGS_MERGE_ROWS = 16_000_000  # recent postings are merged into the packed lists once there are this many
FIRST_POSTINGS_MERGE_ROWS = 1_000_000  # …or, at a command's end, this many and RECENT_POSTINGS_SHARE of the packed ones
RECENT_POSTINGS_SHARE = 0.125  # (any, while none are packed), or after the command added that share of what was there
# Removing documents finds their postings by their band keys (made again from their layouts) while they hold at most
# this share of the index's segments; more, and one pass over every list costs less than the keys' lists one by one
REMOVAL_BY_KEYS_SHARE = 0.05

# Sources read for scans are kept in memory (detector/corpus.py), up to this many bytes (~60–100 KB a report):
# a batch against 10^4 reports meets a few thousand of them, and reading one again costs more than keeping it
SOURCE_CACHE_BYTES = 1 << 30

# The command line's allocator (detector/allocator.py): arrays below this size come from the heap, and up to this much
# free memory stays at its top, instead of being mapped and unmapped per array (measured: scans ~10% faster)
MALLOC_MMAP_THRESHOLD_BYTES = 64 * 2**20
MALLOC_TRIM_THRESHOLD_BYTES = 256 * 2**20

# Stored texts and layouts (detector/compression.py): zstd frames; indexes written before hold zlib streams, still read
STORED_ZSTD_LEVEL = 9  # measured on 400 reports: decompresses 3× faster than zlib at zlib's size; higher levels slow indexing
TEXT_DICTIONARY_BYTES = 112_640  # a dictionary for the texts (zstd's default size; 64 KiB compressed worse, 256 KiB no better)
TEXT_DICTIONARY_MIN_DOCS = 200  # the first batch of at least this many texts trains it (~0.6 s for 500 reports) ...
TEXT_DICTIONARY_MIN_SAMPLES = 8  # ... when they hold this many times the dictionary's size (zstd learns little from less)
TEXT_DICTIONARY_MIN_SAVING = 0.05  # ... and it makes them this much smaller (else none is kept, and a later batch tries,
TEXT_DICTIONARY_ATTEMPTS = 3  # ... up to this many times: a corpus that shares nothing is not trained on at every add)
STORED_BLOB_MAX_BYTES = 2**31  # a stored frame that claims to unpack to more is damaged (no text or layout is that large)

# Redis Cluster backend (detector/store/redis.py)
REDIS_LOCK_SECONDS = 30  # the writer lock expires this long after its holder stopped renewing it (a dead writer)
REDIS_FAILOVER_SECONDS = 30  # a read waits this long for the cluster to fail over before giving up (exit 1)
REDIS_READER_GRACE_SECONDS = 600  # a rebuild waits this long for scans of the old generation before deleting it
REDIS_WRITE_BATCH_KEYS = 2000  # band keys per server-side script call (one call blocks one node this long)


@dataclasses.dataclass(frozen=True)
class Settings:
    """How documents are signed and indexed (recorded in the DB) and how matches are judged (free to change)."""

    # --- index settings: recorded in the database's meta table; a query with others is refused ---
    num_perm: int = 64  # MinHash permutations per segment
    seed: int = 1  # MinHash permutation seed (datasketch's `seed`)
    lsh_threshold: float = 0.3  # Jaccard similarity the LSH is tuned for
    lsh_weights: tuple = (0.3, 0.7)  # datasketch's (false positive, false negative) weights
    shingling: str = "char2"  # character bigrams; see README for the measurement behind the choice
    max_segment_chars: int = 48  # sentences with more content characters are cut into clauses
    min_segment_chars: int = 6  # shorter pieces (numbering, headings) are glued to a neighbour
    # --- matching settings: may change between scans ---
    verify_dice: float = 0.45  # bigram Dice a segment pair needs to count as a match
    merge_gap: int = 20  # normalised characters of new text tolerated inside one passage
    source_window: int = 300  # matches within this many source characters may join one passage
    source_skip: int = 60  # ... but not across this many more unmatched source characters than the submission has
    # between them (an uncopied paragraph of the source is not part of the evidence)
    bridge_gap: int = 80  # a longer stretch between two passages of one source may join them ...
    bridge_min_shared: float = 0.5  # ... when this share of it lies in runs the source also has (rewritten text)
    min_evidence: float = 14.0  # sum of matched characters x similarity a passage needs (short ones: see the sentence check)
    min_passage_chars: int = 25  # shorter matches are stock phrases, not evidence (a formula may still be reported)
    min_mean_similarity: float = 0.55  # mean similarity a passage needs
    sentence_check_chars: int = 80  # a shorter passage must lie in sentences that match as a whole ...
    min_sentence_similarity: float = 0.5  # ... with at least this bigram Dice (else it is a shared phrase),
    verbatim_run_chars: int = 25  # ... unless it shares a word-for-word run this long
    formula_max_chars: int = 48  # a passage this short (one segment) can be a formula
    formula_min_owners: int = 3  # ... when it is written by at least this many authors/units (one author's yearly
    # series repeating a sentence makes it that author's text, not a formula)
    hot_key_postings: int = 200  # a band key with more postings (boilerplate) gives only a sample of this many
    # (the SQLite store's hot_keys table lists keys over HOT_KEY_POSTINGS = 64, so it holds every key over this)
    max_verified_candidates: int = 400  # documents sharing band keys whose colliding segments are verified ...
    segment_leaders: int = 2  # ... of those that really match, the best this many for each submission segment
    max_candidate_documents: int = 150  # ... (at most this many, the author's own besides) are aligned in full; the others carry
    verified_neighbourhood: int = 3  # aligning compares a source's segments this close to one that verified
    max_source_segments: int = 1500  # a longer source (~40k characters) is aligned only in windows around its matches,
    source_window_segments: int = 25  # ... this many segments on either side of each matching segment, 1,500 in all
    max_file_bytes: int = 50 * 1024 * 1024  # larger files are refused (raise with --max-file-mb)
    # bounded work per document (a report has 2–10k characters and a few hundred paragraphs; these are books):
    max_document_chars: int = 1_000_000  # longer texts are refused before they are scanned or indexed
    max_paragraphs: int = 50_000  # .docx with more paragraphs are refused while they are read
    max_xml_bytes: int = 32 * 1024 * 1024  # a .docx whose document.xml unpacks to more is refused before it is parsed
    formulae_file: str | None = None  # curated official formulae; None: corpus/formulae.txt
    ocr: bool = False  # read scanned PDFs (no text layer) with tesseract
    # --- kinds of reuse (classify.py) and measures (measure.py): may change between scans ---
    template_min_owners: int = 2  # other authors/units carrying a passage that make it a template, not a copy
    carrier_min_overlap: float = 0.5  # a document carries a passage when its own match covers this share of it
    named_source_match: float = 0.95  # a carrier aligned over this share of a copied/template passage's stretch, with this
    # share of its evidence, is named instead of the strongest when it was written earlier (classify._first_written)
    quotation_min_share: float = 0.5  # share of a passage inside attributed citations that makes it a quotation
    quotation_min_chars: int = 8  # matched characters a quotation needs to be reported (it needs no evidence)
    quotation_max_chars: int = 300  # a citation runs at most this far (to its closing quote or sentence end)

    def __post_init__(self):
        self._check(self.num_perm >= 8 and self.num_perm <= 512, "num_perm must be between 8 and 512")
        self._check(0.05 <= self.lsh_threshold <= 0.95, "lsh_threshold must be between 0.05 and 0.95")
        self._check(self.shingling in SHINGLINGS, f"shingling must be one of {', '.join(SHINGLINGS)}")
        self._check(0 < self.verify_dice <= 1, "verify_dice must be in (0, 1]")
        self._check(self.min_segment_chars < self.max_segment_chars, "min_segment_chars must be below max_segment_chars")
        self._check(self.max_candidate_documents >= 1, "max_candidate_documents must be at least 1")
        self._check(self.max_verified_candidates >= 1, "max_verified_candidates must be at least 1")
        self._check(self.segment_leaders >= 1, "segment_leaders must be at least 1")
        self._check(self.verified_neighbourhood >= 0, "verified_neighbourhood must be at least 0")
        self._check(self.max_file_bytes > 0, "max_file_bytes must be positive")
        self._check(min(self.max_document_chars, self.max_paragraphs, self.max_xml_bytes) > 0,
                    "max_document_chars, max_paragraphs and max_xml_bytes must be positive")
        self._check(self.template_min_owners >= 1, "template_min_owners must be at least 1")
        self._check(0 < self.carrier_min_overlap <= 1, "carrier_min_overlap must be in (0, 1]")
        self._check(0 < self.named_source_match <= 1, "named_source_match must be in (0, 1]")
        self._check(0 < self.quotation_min_share <= 1, "quotation_min_share must be in (0, 1]")
        self._check(self.quotation_max_chars >= 10, "quotation_max_chars must be at least 10")

    @staticmethod
    def _check(ok: bool, message: str) -> None:
        if not ok:
            raise SettingsError(f"invalid setting: {message}")

    @cached_property
    def bands_rows(self) -> tuple[int, int]:
        """The (bands, rows) split datasketch's MinHashLSH would choose for our threshold and weights."""
        return optimal_bands_rows(self.lsh_threshold, self.num_perm, tuple(self.lsh_weights))

    def index_signature(self) -> dict:
        """The settings that shape the index; stored in the DB and compared on every open."""
        bands, rows = self.bands_rows
        return {
            "num_perm": self.num_perm,
            "seed": self.seed,
            "bands": bands,
            "rows": rows,
            "shingling": self.shingling,
            "max_segment_chars": self.max_segment_chars,
            "min_segment_chars": self.min_segment_chars,
            "lsh_threshold": self.lsh_threshold,
            "lsh_weights": list(self.lsh_weights),
            "normaliser_version": NORMALISER_VERSION,
            "minhash_scheme": "affine32",
            "key_bits": KEY_BITS,
        }

    def replace(self, **changes) -> "Settings":
        """A copy with some fields changed (validated again)."""
        return dataclasses.replace(self, **changes)


_BANDS_ROWS: dict = {}


def optimal_bands_rows(threshold: float, num_perm: int, weights: tuple) -> tuple[int, int]:
    """datasketch's band/row choice: shipped for the usual settings, else integrated numerically by datasketch
    (~1 s, once per process), or taken from an index that recorded it (remember_bands_rows)."""
    key = (threshold, num_perm, tuple(weights))
    if key not in _BANDS_ROWS:
        shipped = shipped_params()["bands_rows"].get(f"{threshold}/{num_perm}/{weights[0]}/{weights[1]}")
        if shipped is None:
            from datasketch.lsh import _optimal_param

            shipped = _optimal_param(threshold, num_perm, *weights)
        _BANDS_ROWS[key] = tuple(shipped)
    return _BANDS_ROWS[key]


@functools.lru_cache(maxsize=1)
def shipped_params() -> dict:
    """The MinHash permutations and LSH band/row splits shipped in detector/minhash_params.json (no scipy at run time)."""
    return json.loads((Path(__file__).parent / "minhash_params.json").read_text(encoding="utf-8"))


def remember_bands_rows(signature: dict) -> None:
    """Take the band/row split an index recorded, so opening it costs no integration."""
    if {"lsh_threshold", "num_perm", "lsh_weights", "bands", "rows"} <= signature.keys():
        key = (signature["lsh_threshold"], signature["num_perm"], tuple(signature["lsh_weights"]))
        _BANDS_ROWS.setdefault(key, (signature["bands"], signature["rows"]))


DEFAULT = Settings()


# --- the web page (`chachong serve`, detector/web/): upload limits; files and zips also meet the ingest limits ---
WEB_MAX_REQUEST_BYTES = 200 * 2**20  # one upload request at most (all files together); larger is refused with 413
WEB_MAX_FILES = 300  # files in one scan, zip members included
WEB_SOURCE_MARK_MIN_RUN = 2  # side by side: source characters are marked in runs of at least this many matching the submission
