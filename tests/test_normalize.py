"""Normalisation folds what copying changes, is idempotent, and every offset maps back to the original text."""

from hypothesis import given, settings as hsettings, strategies as st

from detector.normalize import PLACEHOLDER_TOKEN, YEAR_TOKEN, _fold_one, content_mask, normalize, template_traces

REPORT_ALPHABET = st.sampled_from(
    list("党的建设问题整改学习稿子铺整理年度一二三是首先（）()，,。.、；;！？“”\"' \u3000\n\r\tXx×*＊○〇０１２３45202324ＡａBb①㈠後發")
    + ["##paidbegin##", "2023年", "市x局", "XX县", "××", "\ufeff", "\u200b"]
)
TEXTS = st.lists(REPORT_ALPHABET, max_size=60).map("".join) | st.text(max_size=80)


@given(TEXTS)
@hsettings(max_examples=300, deadline=None)
def test_normalising_twice_changes_nothing(text):
    once = normalize(text).text
    assert normalize(once).text == once


@given(TEXTS)
@hsettings(max_examples=300, deadline=None)
def test_every_offset_maps_back_to_the_original(text):
    norm = normalize(text)
    assert len(norm.starts) == len(norm.ends) == len(norm.text)
    for char, start, end in zip(norm.text, norm.starts.tolist(), norm.ends.tolist()):
        assert 0 <= start < end <= len(text)
        if char not in (YEAR_TOKEN, PLACEHOLDER_TOKEN):
            assert char in _fold_one(text[start:end]) or char in "".join(_fold_one(c) for c in text[start:end])
    assert list(norm.starts) == sorted(norm.starts)


def _content(text):
    norm = normalize(text)
    return "".join(c for c, keep in zip(norm.text, content_mask(norm.text)) if keep)


def test_width_case_and_breaks_fold_to_the_same_content():
    assert _content("坚持，以人民为中心。ＡＢ") == _content("坚持, 以人民\n为中心. ab")


def test_years_fold_and_other_numbers_stay():
    assert normalize("2023年度，每周3天").text == normalize("2024年度，每周3天").text
    assert normalize("每周3天").text != normalize("每周5天").text


def test_placeholders_fold_to_one_token():
    forms = {normalize(t).text for t in ("市x局工作", "市XX局工作", "市××局工作", "市*局工作")}
    assert len(forms) == 1 and PLACEHOLDER_TOKEN in forms.pop()


def test_template_junk_is_removed_and_reported():
    text = "加强理论稿子铺整理学习##paidbegin##，提高站位"
    assert normalize(text).text == normalize("加强理论学习，提高站位").text
    traces = template_traces(text)
    assert [t[2] for t in traces] == ["稿子铺整理", "##paidbegin##"]
    assert all(text[a:b] == t for a, b, t in traces)


def test_traditional_folds_to_simplified():
    assert normalize("堅持黨的領導").text == normalize("坚持党的领导").text


def test_numbering_is_not_content():
    assert normalize("一是加强学习。").text == normalize("首先加强学习。").text
    assert normalize("（一）理论学习方面").text == normalize("1.理论学习方面").text


def test_the_ideograph_shortcut_folds_every_ideograph_as_the_full_fold_does():
    """The fold table's shortcut for plain CJK ideographs (a fresh process's first text meets hundreds) gives what
    _fold_one gives, for every code point of the two blocks it covers, traditional forms included."""
    from detector.normalize import _DELETE, _EXPAND, _IDEOGRAPH_BLOCKS, _plain_ideograph, _table_entry

    taken = 0
    for low, high in _IDEOGRAPH_BLOCKS:
        for code in range(low, high + 1):
            char = chr(code)
            folded = _fold_one(char)
            assert _table_entry(char) == (_DELETE if folded == "" else ord(folded) if len(folded) == 1 else _EXPAND), char
            taken += _plain_ideograph(char)
    assert taken > 20_000 and not _plain_ideograph("們") and not _plain_ideograph("a")  # the shortcut is taken
