"""Verification of colliding segment pairs: the vectorised Dice equals the Dice of Python sets, pair by pair."""

from __future__ import annotations

import random

import numpy as np
import pytest

from detector import verify
from detector.align import Candidate
from detector.fingerprint import Fingerprint, fingerprint
from detector.settings import DEFAULT
from detector.shingles import prepare_text_sets, submission_lookups, text_sets
from detector.sign import shingles


def _edited(text: str, rng: random.Random) -> str:
    """The text with about a third of its sentences rewritten in part, and sentences swapped."""
    sentences = [s + "。" for s in text.split("。") if s]
    for k in range(len(sentences)):
        if rng.random() < 0.35:
            s = list(sentences[k])
            for _ in range(max(1, len(s) // 6)):
                s[rng.randrange(len(s))] = rng.choice("的了是在和有我们工作问题方面")
            sentences[k] = "".join(s)
    for _ in range(len(sentences) // 8):
        a, b = rng.randrange(len(sentences)), rng.randrange(len(sentences))
        sentences[a], sentences[b] = sentences[b], sentences[a]
    return "".join(sentences)


def _set_dice(a: set, b: set) -> float:
    return 2 * len(a & b) / (len(a) + len(b)) if a or b else 0.0


def _expected(sub, src, pairs, settings) -> tuple[dict, set]:
    """What verify must find, computed with Python sets: segment Dice, or the Dice of the submission sentence's
    clause shingles with the source sentence's shingles, whichever is higher."""
    sub_sets = [set(shingles(t, settings.shingling)) for t in sub.segment_texts()]
    src_texts = src.segment_texts()
    sub_sentence: dict = {}
    for i, sentence in enumerate(sub.sentences.tolist()):
        sub_sentence.setdefault(sentence, set()).update(sub_sets[i])
    matched, sources = {}, set()
    for i, j in pairs:
        dice = _set_dice(sub_sets[i], set(shingles(src_texts[j], settings.shingling)))
        whole = src.sentence_texts()[int(src.sentences[j])]
        dice = max(dice, _set_dice(sub_sentence[int(sub.sentences[i])], set(shingles(whole, settings.shingling))))
        if dice >= settings.verify_dice:
            matched[i] = max(matched.get(i, 0.0), dice)
            sources.add(j)
    return matched, sources


@pytest.mark.parametrize("shingling", ["char2", "char3", "jieba"])
def test_verified_pairs_equal_python_set_dice(seeds, shingling):
    settings = DEFAULT.replace(shingling=shingling)
    rng = random.Random(7)
    texts = [p.read_text(encoding="utf-8") for p in seeds[:3]]
    sub = fingerprint(texts[0], settings)
    sources = {}
    found = []
    for doc_id, text in enumerate([_edited(texts[0], rng), texts[1], _edited(texts[2], rng)], start=1):
        src = fingerprint(text, settings, signed=False)
        sources[doc_id] = (None, src)
        pairs = sorted({(rng.randrange(sub.segment_count), rng.randrange(src.segment_count)) for _ in range(400)}
                       | {(i, i) for i in range(min(sub.segment_count, src.segment_count))})
        found.append((doc_id, pairs))
    for attempt in ("first", "again, with the set sizes the first one kept"):
        candidates = [(Candidate(doc_id, 1.0, *(np.array(column) for column in zip(*pairs))), pairs) for doc_id, pairs in found]
        verify.verify([c for c, _ in candidates], sub, sources, settings)
        some_matched = 0
        for candidate, pairs in candidates:
            matched, matched_sources = _expected(sub, sources[candidate.doc_id][1], pairs, settings)
            assert candidate.matched.keys() == matched.keys(), attempt
            assert all(abs(candidate.matched[i] - d) < 1e-9 for i, d in matched.items()), attempt
            assert candidate.matched_sources == matched_sources, attempt
            some_matched += len(matched)
        assert some_matched > 20  # the edited copies match in many places: the comparison above is not vacuous


def test_kept_set_sizes_are_the_sizes_of_the_sets(seeds):
    settings = DEFAULT
    text = seeds[2].read_text(encoding="utf-8")
    sub, src = fingerprint(text, settings), fingerprint(_edited(text, random.Random(5)), settings, signed=False)
    rows = np.arange(sub.segment_count) % sub.segment_count
    cols = np.arange(sub.segment_count) % src.segment_count
    verify.verify([Candidate(1, 1.0, rows, cols)], sub, {1: (None, src)}, settings)
    kept = src.remembered(("segment set sizes", settings.shingling), lambda: None)
    texts = src.segment_texts()
    assert (kept[cols] >= 0).all() and (kept[np.setdiff1d(np.arange(src.segment_count), cols)] == -1).all()
    assert [int(kept[j]) for j in cols] == [len(set(shingles(texts[j], settings.shingling))) for j in cols]


def test_long_submissions_are_verified_in_blocks_with_the_same_result(seeds, monkeypatch):
    settings = DEFAULT
    text = seeds[0].read_text(encoding="utf-8")
    sub, src = fingerprint(text, settings), fingerprint(_edited(text, random.Random(3)), settings, signed=False)
    rows = np.repeat(np.arange(sub.segment_count), 3)
    cols = np.concatenate([[i, (i + 1) % src.segment_count, (i * 7) % src.segment_count]
                           for i in range(sub.segment_count)]) % src.segment_count
    whole, blocks = Candidate(1, 1.0, rows, cols), Candidate(1, 1.0, rows, cols)
    verify.verify([whole], sub, {1: (None, src)}, settings)
    monkeypatch.setattr(verify, "PAIRS_AT_ONCE", 17)
    verify.verify([blocks], sub, {1: (None, src)}, settings)
    assert whole.matched and whole.matched == blocks.matched and whole.matched_sources == blocks.matched_sources


@pytest.mark.parametrize("shingling", ["char2", "char3"])
def test_alignment_similarities_equal_python_set_dice(seeds, shingling):
    """Every (submission unit, source unit) pair at or above the bar, segments and sentences, with its Dice."""
    settings = DEFAULT.replace(shingling=shingling)
    text = seeds[1].read_text(encoding="utf-8")
    sub, src = fingerprint(text, settings), fingerprint(_edited(text, random.Random(11)), settings, signed=False)
    by_segment, by_sentence = submission_lookups(sub, shingling)
    segments, sentences = text_sets(src, shingling)
    for lookup, sets, units_a, units_b in ((by_segment, segments, _unit_sets(sub, shingling, False), _unit_sets(src, shingling, False)),
                                           (by_sentence, sentences, _unit_sets(sub, shingling, True), _unit_sets(src, shingling, True))):
        expected = {(i, j): _set_dice(a, b) for i, a in units_a.items() for j, b in units_b.items()
                    if _set_dice(a, b) >= settings.verify_dice}
        found = lookup.similar(sets, settings.verify_dice)
        assert found.keys() == expected.keys() and len(found) > 10
        assert all(abs(found[k] - d) < 1e-9 for k, d in expected.items())


def _unit_sets(fp, shingling: str, by_sentence: bool) -> dict:
    """Segment → its shingle set, or sentence → the union of its clauses' sets."""
    found: dict = {}
    for i, text in enumerate(fp.segment_texts()):
        found.setdefault(int(fp.sentences[i]) if by_sentence else i, set()).update(shingles(text, shingling))
    return found


@pytest.mark.parametrize("shingling", ["char2", "char3", "jieba"])
def test_text_sets_made_together_equal_those_made_one_by_one(seeds, shingling):
    texts = [p.read_text(encoding="utf-8") for p in seeds] + ["", "一句话。"]
    together = [fingerprint(t, DEFAULT, signed=False) for t in texts]
    prepare_text_sets(together, shingling)
    for text, made in zip(texts, together):
        alone = text_sets(fingerprint(text, DEFAULT, signed=False), shingling)
        for a, b in zip(text_sets(made, shingling), alone):
            assert np.array_equal(a.sizes, b.sizes) and len(a.sizes) == len(b.sizes)
            for t in range(len(a.sizes)):
                assert set(a.codes[a.first[t] : a.first[t] + a.sizes[t]].tolist()) == \
                    set(b.codes[b.first[t] : b.first[t] + b.sizes[t]].tolist())


def test_bigram_characters_give_the_shingle_codes():
    """Bigrams cut as character pairs have the codes the generic cutter gives, one-character and empty ranges too."""
    from detector.shingles import _range_shingles, bigram_chars, bigram_codes

    codes = np.frombuffer("一二三四五六七八九十甲乙丙丁".encode("utf-32-le"), dtype="<u4")
    bounds = np.array([[0, 3], [3, 4], [4, 4], [4, 9], [9, 10], [10, 14], [13, 14]])
    units, firsts, seconds = bigram_chars(codes, bounds)
    expected_units, expected_codes = _range_shingles(codes, bounds, 2)
    assert np.array_equal(units, expected_units) and np.array_equal(bigram_codes(firsts, seconds), expected_codes)
    assert len(units) == 2 + 1 + 0 + 4 + 1 + 3 + 1


def test_set_sizes_stored_at_index_time_are_those_verification_counts(seeds):
    """The indexer stores each segment's and each whole sentence's bigram-set size with the layout; a scan that
    reads them verifies exactly as one that counts them, and a layout without them (older index) still reads."""
    from detector.index import index_entries
    from detector.layout import decode, encode
    from detector.model import Document
    from detector.shingles import Pool, Texts, ShingleSets

    settings = DEFAULT
    texts = [p.read_text(encoding="utf-8") for p in seeds[:3]]
    docs = [Document(path=f"d{i}.txt", text=t, sha256=str(i), encoding="utf-8") for i, t in enumerate(texts)]
    entries = index_entries(docs, settings, workers=1)
    stored = {}
    for doc_id, (doc, entry) in enumerate(zip(docs, entries), start=1):
        layout = decode(encode(entry.layout, doc.text), doc.text)
        src = fingerprint(doc.text, settings, signed=False)
        pool = Pool([src])
        counted = (ShingleSets.of(Texts(pool.codes, pool.segments), "char2").sizes,
                   ShingleSets.of(Texts(pool.codes, pool.sentence_ranges()), "char2").sizes)
        assert layout.set_sizes is not None
        assert all(np.array_equal(a, b) for a, b in zip(layout.set_sizes, counted))
        entry.layout.set_sizes = None
        assert decode(encode(entry.layout, doc.text), doc.text).set_sizes is None  # as an older index wrote it
        stored[doc_id] = (None, Fingerprint.of_layout(layout, settings))
    sub = fingerprint(_edited(texts[0], random.Random(2)), settings)
    plain = {doc_id: (None, fingerprint(t, settings, signed=False)) for doc_id, t in enumerate(texts, start=1)}
    results = []
    for sources in (stored, plain):
        found = []
        for doc_id, (_, src) in sources.items():
            rows = np.arange(sub.segment_count).repeat(2)
            cols = (rows * 3 + np.tile([0, 1], sub.segment_count)) % src.segment_count
            found.append(Candidate(doc_id, 1.0, rows, cols))
        verify.verify(found, sub, sources, settings)
        results.append([(c.matched, c.matched_sources) for c in found])
    assert results[0] == results[1] and any(m for m, _ in results[0])


def _synthetic(rng: random.Random, alphabet: str, lengths: list, like: str = "") -> Fingerprint:
    """A text of random characters from `alphabet` — or `like` with about one character in eight changed — cut into
    segments of `lengths` (empty and one-character ones too), grouped into sentences at random: shapes the
    segmenter seldom makes."""
    from detector.layout import Layout

    content = "".join(c if rng.random() > 0.125 else rng.choice(alphabet) for c in like[: sum(lengths)])
    content += "".join(rng.choice(alphabet) for _ in range(sum(lengths) - len(content)))
    sentences = np.cumsum([0] + [rng.random() < 0.4 for _ in lengths[1:]])
    at = np.arange(len(content))
    return Fingerprint.of_layout(Layout(content=content, starts=at, ends=at + 1, lengths=np.array(lengths, dtype=np.int64),
                                        sentences=sentences.astype(np.int64)), DEFAULT)


@pytest.mark.parametrize("alphabet_size, length_choices, segments", [
    (5, [0, 1, 1, 2, 3, 4, 7, 12], 120),  # few characters: most texts repeat a bigram; empty and one-character texts
    (400, [400, 600], 100),  # over 32767 distinct bigrams: numbers wider than 16 bits
    (4000, [5, 20, 60], 150),  # too many distinct characters for the bigram table: looked up by binary search
    (30, [1, 2, 3, 6, 10], 3000),  # too many submission texts for a table of flags: looked up by search
])
def test_one_cut_of_the_source_sentences_verifies_as_cutting_each_text(alphabet_size, length_choices, segments,
                                                                        monkeypatch):
    """With the sources' set sizes known, each source sentence is cut once for its segments and itself, and only
    texts repeating a bigram are de-duplicated: the Dice found are exactly those of cutting and de-duplicating
    every text on its own (which the first verification, counting the sizes, does), whatever the segments' shapes."""
    rng = random.Random(alphabet_size)
    alphabet = "".join(chr(0x4E00 + k) for k in range(alphabet_size))
    sub = _synthetic(rng, alphabet, [rng.choice(length_choices) for _ in range(segments)])
    sources, found = {}, []
    for doc_id in (1, 2):
        src = _synthetic(rng, alphabet, [rng.choice(length_choices) for _ in range(segments)], like=sub.content)
        sources[doc_id] = (None, src)
        found.append((doc_id, sorted({(rng.randrange(sub.segment_count), rng.randrange(src.segment_count))
                                      for _ in range(3 * segments)} | {(i, i) for i in range(segments)})))
    cuts = []
    monkeypatch.setattr(verify, "_SentenceCut", lambda *args, made=verify._SentenceCut: cuts.append(1) or made(*args))
    results = []
    for attempt in ("sizes counted", "sizes known"):
        candidates = [Candidate(doc_id, 1.0, *(np.array(column) for column in zip(*pairs))) for doc_id, pairs in found]
        verify.verify(candidates, sub, sources, DEFAULT)
        results.append([(c.matched, c.matched_sources) for c in candidates])
        assert len(cuts) == (attempt == "sizes known")
    assert results[0] == results[1] and sum(len(matched) for matched, _ in results[0]) > 20


def test_sentence_characters_are_those_of_the_sentences_holding_the_segments_used():
    from detector.shingles import Pool

    texts = ["一二三四，五六。七八！", "", "七八九十甲乙丙丁。", "戊", "己庚辛壬癸子，丑寅卯。辰巳。"]
    fps = [fingerprint(text, DEFAULT, signed=False) for text in texts]
    pool = Pool(fps)
    clauses = [(fp, segment) for fp in fps for segment in range(fp.segment_count)]
    for used in ([0], [1, len(clauses) - 1], list(range(0, len(clauses), 2)), list(range(len(clauses)))):
        parts, lengths, offsets, chars = verify._sentence_characters(pool, np.array(used))
        sentences = {int(pool.sentence_of[k]) for k in used}
        expected = [k for k in range(len(clauses)) if int(pool.sentence_of[k]) in sentences]
        assert parts.tolist() == expected
        contents = [clauses[k][0].segment_content(clauses[k][1]) for k in expected]
        assert lengths.tolist() == [len(text) for text in contents]
        assert offsets.tolist() == [sum(lengths.tolist()[:k]) for k in range(len(expected))]
        assert chars.tobytes().decode("utf-32-le") == "".join(contents)


def test_tables_remembered_for_many_fingerprints_are_each_ones_own_made_once():
    from detector.fingerprint import remembered_each

    fps = [fingerprint(text, DEFAULT, signed=False) for text in ("一二三。", "四五，六七。", "八")]
    fps[1].remember("key", "kept")
    made = []
    found = remembered_each(fps + [fps[0]], "key", lambda k, fp: made.append(k) or f"made {k} {fp.segment_count}")
    assert found == ["made 0 1", "kept", "made 2 1", "made 0 1"] and made == [0, 2]
    assert [fp.remembered("key", lambda: "again") for fp in fps] == found[:3]
