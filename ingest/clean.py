"""Cleaning of extracted text: undo the damage of PDF-to-text extraction.

The corpus files are plain-text extractions of PDFs (and one web page). They carry
extraction damage: words hyphenated or split at line ends, bullet glyphs, page
numbers glued to running titles and headings, running headers and footers,
Markdown remnants, generated image descriptions, URL session ids, quote boxes and
captions cutting sentences in two. This module removes that damage and keeps
everything a citation must show (numbers, names, wording) unchanged.

Output format (the chunker relies on it):
  * paragraphs are separated by exactly one blank line;
  * inside a paragraph the PDF line breaks are joined into one line;
  * a heading is a paragraph of its own;
  * list items are lines starting with "- " (consecutive items of one list share a
    paragraph, one item per line); numbered items and footnotes keep their number.

Every decision that needs evidence (is "Nor-" + "genta" one word? is "Ent wicklung"
one word?) is taken from word statistics of the document itself.

The general rules that look at one line are an ordered table (``LINE_RULES``),
as are those that drop a line as layout (``NOISE_RULES``); the rest (joining
lines, hyphenation, split words, broken sentences) work on blocks with the
document's statistics. Quirks of one source's extraction (a Wingdings bullet
read as "t") are ``PROFILES`` a document opts into in corpus/manifest.toml
(``clean = [...]``); ``recipe`` names what cleaned a document, for ingest's hash.

Only pure functions (the standard library and ``lsn_assistant.text.fold``, the
form gold quotes are compared in): ``clean_pages`` and ``clean_text``.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field

from lsn_assistant.text import fold

__all__ = ["LINE_RULES", "NOISE_RULES", "PROFILES", "check_profiles", "clean_pages", "clean_text", "recipe"]


# --------------------------------------------------------------------------
# Thresholds of the layout rules, named (characters, words, lines)
# --------------------------------------------------------------------------

SHORT_LINE = 60  # a running header, a box label or a heading ending in ":" is at most this long
LABEL_REPEATS = 3  # a short unfinished line repeated this often is a box label ("Stimmen aus dem Netzwerk")
HEADER_MIN_LINES_APART = 15  # on one page, two lines of a running header stand at least this far apart
HEADER_MIN_PAGE_NUMBER = 10  # running headers count pages past 9; "1 …" / "5 …" alone are chapter headings
HEADER_SPARSENESS = 1.5  # page numbers of a running header spread over more than this times their count
HEADING_MAX_CHARS = 80  # a heading guessed from layout is at most this long …
HEADING_MAX_WORDS = 10  # … and has at most this many words
HEADING_SHARE_OF_NEXT = 0.7  # … and at most this share of the length of the line after it
NUMBERED_HEADING_MAX_CHARS = 90  # "3.2 Das Management von Life Science Nord"
TITLE_MAX_CHARS = 100  # a lone short block without final punctuation is a title or label …
TITLE_MAX_WORDS = 12  # … of at most this many words


# --------------------------------------------------------------------------
# Shared vocabulary of the rules
# --------------------------------------------------------------------------

# Words after which a sentence cannot end: a line or block ending in one of them
# continues somewhere. German and English, lower case.
FUNCTION_WORDS = frozenset(
    """
    der die das den dem des ein eine einer eines einem einen kein keine
    und oder sowie bzw sondern aber denn dass daß weil wenn ob als wie
    in im ins von vom zu zur zum mit für auf an am bei beim aus nach über unter
    durch zwischen um gegen ohne bis seit vor hinter neben entlang gegenüber
    seine seiner seinen seinem ihre ihrer ihren ihrem unsere unserer unseren
    diese dieser diesem diesen dieses jede jeder jedes jeden jedem deren dessen
    welche welcher welches welchen welchem sich auch nicht noch sowohl weder
    the a an of and or nor to in for with by from on at as between its their his her
    our your this that these those into onto than both either neither but about
    over under via per whose which who whom
    zwei drei vier fünf sechs sieben acht neun zehn elf zwölf
    two three four five six seven eight nine ten eleven twelve
    """.split()
)

# Articles need a noun after them: "im Aufsichtsrat der" cannot go on with "der ...".
ARTICLES = frozenset("der die das den dem des ein eine einer eines einem einen the a an".split())

# Words that follow a suspended hyphen: "Aus- und Weiterbildung", "Forschungs- bzw.".
CONJUNCTIONS = frozenset("und oder bzw sowie bis als and or nor to".split())

# A text ends a sentence (or a label) when its last visible char is one of these,
# possibly followed by closing quotes or brackets.
_TERMINAL = re.compile(r"[.!?:;…][\"'“”‘’»«)\]]*$")
_INFLECTIONS = ("en", "em", "er", "es", "e", "n", "s", "")  # longest first; "" last
_WORD = re.compile(r"[^\W\d_]+(?:[-‑][^\W\d_]+)*")  # letters, internal hyphens
_SIMPLE_WORD = re.compile(r"[^\W\d_]+")
_URL_LINE = re.compile(r"^(?:mailto:\S+|https?://\S+|www\.\S+)$", re.IGNORECASE)
_COLUMN_GAP = "\u2003"  # a tab inside a line: table columns (a table of contents); becomes a space at the end
_UNICODE_SPACES = re.compile(r"[\u00a0\u2000-\u200a\u202f\u205f\u3000]")






def _is_terminal(text: str) -> bool:
    return bool(_TERMINAL.search(text.rstrip()))


def _last_word(text: str) -> str:
    words = _SIMPLE_WORD.findall(text[-80:])
    return words[-1] if words else ""


def _first_word(text: str) -> str:
    m = _SIMPLE_WORD.search(text, 0, 80)
    return m.group(0) if m else ""


def _starts_lower(text: str) -> bool:
    """Starts with a lower-case word (not with a URL, domain or e-mail address)."""
    t = text.lstrip("„“\"'‚‘(")
    if not (t and t[0].isalpha() and t[0].islower()):
        return False
    head = t.split(None, 1)[0]
    return not ("://" in head or "@" in head or re.search(r"\w\.\w", head))


_LETTER = re.compile(r"[^\W\d_]")


def _is_caps(line: str) -> bool:
    """ALL-CAPS line (a heading): at least 4 letters, none lower case (ß is caseless),
    not a finished sentence ("(BMI)." closes a sentence, it is no heading)."""
    t = line.replace("ß", "")
    if t != t.upper() or len(_LETTER.findall(t)) < 4:
        return False
    return not re.search(r"[.!?][\"'“”)]*$", t.rstrip())


def _ends_strong_open(text: str) -> bool:
    """The text certainly continues: it ends in a comma, dash, word-hyphen or function word."""
    t = text.rstrip()
    if not t or _is_terminal(t):
        return False
    if t.endswith((",", "–", "—")):
        return True
    if t.endswith("-") and len(t) > 1 and t[-2].isalpha():
        return True
    return t[-1].isalpha() and _last_word(t).lower() in FUNCTION_WORDS


# --------------------------------------------------------------------------
# Statistics of the whole document
# --------------------------------------------------------------------------


@dataclass
class _Vocab:
    """Word counts of one document, the evidence for joining decisions.

    ``lower`` counts words and hyphenated compounds case-insensitively; ``exact``
    counts simple words case-sensitively ("heit" as a word of its own is unknown
    even though "Heit..." might start a name). Fragments at line breaks are left
    out, so a fragment does not count as evidence for itself.
    """

    lower: Counter = field(default_factory=Counter)
    exact: Counter = field(default_factory=Counter)
    bigrams: Counter = field(default_factory=Counter)
    edge: Counter = field(default_factory=Counter)  # lower-case words opening a line that goes on
    edge_left: Counter = field(default_factory=Counter)  # words closing a line continued in lower case
    lang: str = "de"
    _all_words: str | None = None
    _fc_cache: dict = field(default_factory=dict)
    _cand_cache: dict = field(default_factory=dict)

    def add_tokens(self, tokens: list[str], sign: int = 1, pairs: bool = True) -> None:
        """Count ``tokens`` (``sign`` -1 takes them out again)."""
        lows = [t.lower() for t in tokens]
        lower, exact = self.lower, self.exact
        for low, n in Counter(lows).items():
            lower[low] += sign * n
        for tok, n in Counter(tokens).items():
            if "-" in tok or "‑" in tok:
                for part in tok.replace("‑", "-").split("-"):
                    exact[part] += sign * n
                    lower[part.lower()] += sign * n
            else:
                exact[tok] += sign * n
        if pairs:
            for pair, n in Counter(zip(lows, lows[1:])).items():
                self.bigrams[pair] += sign * n

    def count(self, word: str) -> int:
        return self.lower[word.lower()]

    def form_count(self, word: str) -> int:
        """Occurrences of the word in any inflected form ("gezielte" also counts
        "gezielt", "gezielten"; "länderübergreifend" counts "länderübergreifende")."""
        w = word.lower()
        hit = self._fc_cache.get(w)
        if hit is not None:
            return hit
        base = w
        for suf in _INFLECTIONS:
            if suf and w.endswith(suf) and len(w) - len(suf) >= 4:
                base = w[: -len(suf)]
                break
        get = self.lower.get
        n = 0
        for suf in _INFLECTIONS:
            n += get(base + suf, 0)
        self._fc_cache[w] = n
        return n

    def is_word_part(self, fragment: str) -> bool:
        """Does ``fragment`` occur inside a longer word of the document, not at its
        start? ("branche" in "Medizintechnikbranche", "einrichtung" in
        "Forschungseinrichtungen"; "zurück" in nothing of the masterplan)."""
        if self._all_words is None:
            self._all_words = "\n".join(w for w in self.lower if "-" not in w)
        return re.search(r"[^\W\d_]" + re.escape(fragment.lower()), self._all_words) is not None

    def known(self, word: str) -> bool:
        """Is ``word`` seen as a word of its own, exactly in this case?"""
        return self.exact[word] > 0


def _build_vocab(lines: list[str]) -> _Vocab:
    """Count the words of the document, leaving out the two halves of words
    hyphenated at a line end ("Nor-" / "genta" are no evidence for themselves).

    Lower-case words opening a line that continues a line ending in a letter are
    also remembered in ``edge`` (and the word before them in ``edge_left``): they may
    be the halves of a word split without hyphen ("Energie" / "branche")."""
    vocab = _Vocab()
    stripped = [ln.strip() for ln in lines]
    vocab.add_tokens(_WORD.findall("\n".join(stripped)))
    fragments: list[str] = []
    prev = ""
    for s in stripped:
        if prev.endswith("-") and prev[-2:-1].isalpha():
            head = _WORD.match(s)
            if head:
                fragments.append(head.group(0))
        if s.endswith("-") and s[-2:-1].isalpha():
            tail = _WORD.findall(s[-80:])
            if tail:
                fragments.append(tail[-1])
        elif prev[-1:].isalpha() and _starts_lower(s):
            vocab.edge[_first_word(s)] += 1
            vocab.edge_left[_last_word(prev)] += 1
        prev = s
    vocab.add_tokens(fragments, sign=-1, pairs=False)
    en = sum(vocab.exact[w] for w in ("the", "and", "of", "to"))
    de = sum(vocab.exact[w] for w in ("der", "die", "und", "das"))
    vocab.lang = "en" if en > de else "de"
    return vocab


@dataclass
class _DocStats:
    vocab: _Vocab
    running_lines: frozenset  # normalized running headers / footers
    labels: frozenset  # short lines repeated >= 3 times (box labels like "Stimmen aus dem Netzwerk")
    first_seen: dict  # URL / e-mail address -> index of the first line showing it
    folded: str  # the whole document folded, for pull-quote detection


_NUMBERED_RUNNING = re.compile(r"^(\d{1,3})\s*(\D.*?)$|^(.*?\D)\s*(\d{1,3})$")


def _running_header_templates(lines: list[str], page_of: list[int]) -> frozenset:
    """Running headers/footers: short lines that repeat with a varying page number.

    "EXPEDITION CLUSTERINITIATIVE 27" / "... 45" / "... 61", "11Masterplan Life
    Science Nord" / "17Masterplan ...". The numbers must be sparse (pages), not an
    enumeration: "OPERATIVES ZIEL 1..6" and "Abbildung 1..7" are headings and stay.
    The lines must be on different pages, or far apart when the document comes as
    one text: figure labels such as "46 % der Funktionen" / "39 % der Funktionen"
    a few lines apart are content.
    """
    seen: dict[str, list[tuple[int, int]]] = {}
    for idx, raw in enumerate(lines):
        line = raw.strip()
        if not line or len(line) > SHORT_LINE:
            continue
        m = _NUMBERED_RUNNING.match(line)
        if not m:
            continue
        num, rest = (m.group(1), m.group(2)) if m.group(1) else (m.group(4), m.group(3))
        if not re.search(r"[^\W\d_]{3}", rest) or rest.lstrip()[:1] in "%‰€$.,":
            continue
        seen.setdefault(" ".join(rest.lower().split()), []).append((idx, int(num)))
    out = set()
    for template, occ in seen.items():
        nums = [n for _, n in occ]
        n = len(nums)
        apart = all(page_of[a] != page_of[b] or b - a >= HEADER_MIN_LINES_APART for (a, _), (b, _) in zip(occ, occ[1:]))
        sparse = (max(nums) - min(nums) + 1) > HEADER_SPARSENESS * n
        # "1 LIFE SCIENCE NORD" / "5 LIFE SCIENCE NORD" alone are chapter headings
        if n >= 2 and len(set(nums)) == n and sparse and max(nums) >= HEADER_MIN_PAGE_NUMBER and apart:
            out.add(template)
    return frozenset(out)


def _url_core(s: str) -> str:
    s = s.strip().lower()
    s = re.sub(r"^(?:mailto:|https?://)", "", s)
    s = re.sub(r"^www\.", "", s)
    return s.rstrip("/")


def _doc_stats(lines: list[str], page_of: list[int] | None = None) -> _DocStats:
    running = _running_header_templates(lines, page_of or [0] * len(lines))
    stripped = [ln.strip() for ln in lines]
    counts = Counter(s for s in stripped if s and len(s) <= SHORT_LINE)
    labels = frozenset(s for s, c in counts.items() if c >= LABEL_REPEATS and not _is_terminal(s) and not s.startswith("-"))
    first_seen: dict[str, int] = {}
    for idx, s in enumerate(stripped):
        if "@" in s or "www." in s or "://" in s:
            for tok in re.findall(r"(?:mailto:|https?://|www\.)\S+|[\w.+-]+@[\w-]+\.[\w.-]+", s):
                first_seen.setdefault(_url_core(strip_session_ids(tok.rstrip(".,;:)"))), idx)
    return _DocStats(
        vocab=_build_vocab(lines),
        running_lines=running,
        labels=labels,
        first_seen=first_seen,
        folded=fold("\n".join(lines)),
    )


# --------------------------------------------------------------------------
# Rules on characters and single lines
# --------------------------------------------------------------------------


def normalize_chars(text: str) -> str:
    """Unify line ends and spaces: thin/non-breaking spaces and tabs become spaces,
    soft hyphens vanish. Folding ignores them, readers and regexes do not."""
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\f", "\n")
    text = text.replace("\u00ad", "")
    text = _UNICODE_SPACES.sub(" ", text)
    # a leading tab is layout (contact blocks, indented bullets); inside a line it is a column gap
    text = re.sub(r"(?m)^[ ]?\t+[ ]?", lambda m: " " if m.group(0).startswith(" ") else "", text)
    return text.replace("\t", _COLUMN_GAP)


def is_running_header(line: str, stats: _DocStats) -> bool:
    """Running header/footer lines ("EXPEDITION CLUSTERINITIATIVE 27"): found by
    statistics across the document, see _running_header_templates."""
    m = _NUMBERED_RUNNING.match(line.strip())
    if not m:
        return False
    rest = m.group(2) if m.group(1) else m.group(3)
    return " ".join(rest.lower().split()) in stats.running_lines


_COPYRIGHT = re.compile(r"^©\s*(?:\d{4}\s+)?[\w .&-]{1,40}$")


def is_copyright_credit(line: str) -> bool:
    """Figure credits like "© 2009 Capgemini" repeat under every figure: a footer."""
    return bool(_COPYRIGHT.match(line.strip()))


_ALT_TEXT = re.compile(
    r"^(?:An?|The)\s+(?:[\w-]+\s+){0,4}?"
    r"(?:signature|photo(?:graph)?|image|picture|logo|illustration|graphic|icon|portrait|screenshot|drawing)s?\b"
    r".*\b(?:appearing|appears|showing|shows|depicting|depicts|featuring|reading|in (?:blue|black|red) ink)\b",
    re.IGNORECASE,
)


def is_image_description(line: str) -> bool:
    """Generated alt text ("A handwritten signature in blue ink, appearing to read
    'Bernd Buchholz'.") describes a picture; it is not part of the document."""
    return bool(_ALT_TEXT.match(line.strip()))


def is_link_annotation(line: str, index: int, stats: _DocStats) -> bool:
    """Link targets the extractor appended to a page ("mailto:info@optence.de",
    "http://www.optence.de") repeat an address printed before: drop the repeat.
    The first occurrence of a target stays, also when it is only a link line (the
    clusterplattform PDF link)."""
    s = line.strip()
    if not _URL_LINE.match(s) or s.lower().startswith("www."):
        return False
    return stats.first_seen.get(_url_core(strip_session_ids(s)), index) < index


def is_empty_bullet(line: str) -> bool:
    """A Markdown list marker with nothing after it ("-") is left over from a broken item."""
    return line.strip() in {"-", "*", "•", "›", ">", "- >", "- ›", "�"}


@dataclass(frozen=True)
class NoiseRule:
    """A named test for a line that is layout, not content: ``drops(lines, i,
    offset, stats)`` on the stripped line ``lines[i]`` (``offset + i`` is its
    index in the whole document)."""

    name: str
    drops: object  # Callable[[list[str], int, int, _DocStats], bool]


# In order; a line is dropped by the first rule that matches.
NOISE_RULES: tuple[NoiseRule, ...] = (
    NoiseRule("running-header", lambda lines, i, off, st: is_running_header(lines[i].strip(), st)),
    NoiseRule("copyright-credit", lambda lines, i, off, st: is_copyright_credit(lines[i])),
    NoiseRule("image-description", lambda lines, i, off, st: is_image_description(lines[i])),
    NoiseRule("link-annotation", lambda lines, i, off, st: is_link_annotation(lines[i], off + i, st)),
    NoiseRule("empty-bullet", lambda lines, i, off, st: is_empty_bullet(lines[i])),
    NoiseRule("page-number", lambda lines, i, off, st: is_page_number(lines, i)),
)


def drop_noise_lines(lines: list[str], stats: _DocStats, offset: int = 0) -> list[str]:
    """Delete lines that are layout, not content (``NOISE_RULES``: running
    headers/footers, figure credits, image descriptions, repeated link
    annotations, empty bullets, page numbers). ``offset`` is the index of
    lines[0] in the whole document."""
    out: list[str] = []
    for i, line in enumerate(lines):
        if not line.strip():
            out.append("")
            continue
        if any(rule.drops(lines, i, offset, stats) for rule in NOISE_RULES):
            continue
        out.append(line)
    return out


def is_page_number(lines: list[str], i: int) -> bool:
    """A lone page number: a 1-3 digit line between blank lines, after a finished
    sentence. Figure values ("865" under a figure label) do not follow a sentence
    end and stay; so do the page columns of a table of contents."""
    s = lines[i].strip()
    if not re.fullmatch(r"\d{1,3}", s):
        return False
    if i + 1 < len(lines) and lines[i + 1].strip():
        return False
    j = i - 1
    if j < 0 or lines[j].strip():
        return False
    while j >= 0 and not lines[j].strip():
        j -= 1
    return j >= 0 and _is_terminal(lines[j].strip())


_MD_LINK = re.compile(r"\[([^\]\n]*)\]\((?:#[^)\s]*|[^)\s]*)\)")
_MD_AUTOLINK = re.compile(r"<((?:https?://|mailto:)[^>\s]+)>")
_MD_ESCAPE = re.compile(r"\\([()\[\]*_#>`\\])")
_MD_EMPHASIS = re.compile(r"(?<![\w*])(\*{1,3})(?=\S)(.+?)(?<=\S)\1(?![\w*])")
_MD_STRAY_STAR = re.compile(r"(?:(?<=^)|(?<=\s))\*{1,3}(?=\S)|(?<=\S)\*{1,3}(?=\s|$)")


def strip_markdown(line: str) -> str:
    """Markdown remnants: "[Infektion und Hygiene](#)" -> "Infektion und Hygiene",
    "<https://...>" -> "https://...",
    "\\(HIHeal\\)" -> "(HIHeal)", "*italic*"/"**bold**" -> plain text. Emphasis that
    spans lines leaves single stars at the line ends; they go too."""
    line = _MD_LINK.sub(r"\1", line)
    line = _MD_AUTOLINK.sub(r"\1", line)
    line = _MD_ESCAPE.sub(r"\1", line)
    line = _MD_EMPHASIS.sub(r"\2", line)
    if "*" in line:
        line = _MD_STRAY_STAR.sub("", line)
    return line


_SESSION_PATH = re.compile(r";(?:jsessionid|sessionid|sid)=[^?#\s/]*", re.IGNORECASE)
_SESSION_PARAM = re.compile(r"([?&])(?:jsessionid|phpsessid|sessionid|sid|session_id)=[^&#\s]*&?", re.IGNORECASE)


def strip_session_ids(line: str) -> str:
    """Session ids in URLs (";jsessionid=4480E2...", "?sid=...") are per-visit noise:
    strip the session part, keep the URL."""
    if "://" not in line and "www." not in line:
        return line
    line = _SESSION_PATH.sub("", line)
    line = _SESSION_PARAM.sub(r"\1", line)
    return re.sub(r"[?&](?=\s|$|#)", "", line)


# Bullet glyphs at a line start: Markdown "- >", "- ›", "- »", "› ", "> ", "•" and
# the replacement char "�" of a glyph the extractor could not map.
_BULLET = re.compile(r"^\s*(?:[-*]\s*[>›»]\s+|[-*]\s+|[›»>•▪●◦■�]\s*)(?=\S)")


@dataclass(frozen=True)
class Profile:
    """A quirk of one source's extraction that only documents opting in get
    (``clean = ["name"]`` in corpus/manifest.toml): in the text of another
    source the same pattern is content. ``bullet`` is a glyph (regex, with
    what must follow it) that stands for a bullet at a line start."""

    name: str
    description: str
    bullet: str


PROFILES: dict[str, Profile] = {
    p.name: p
    for p in (
        Profile("wingdings-t-bullets", "a Wingdings bullet extracted as the letter t (\"t Vermarktung des Clusters\")",
                r"t\s+(?=[^\W\d_])"),
        Profile("symbol-font-bullets", "a lost symbol-font bullet extracted as \"ą\"", r"ą\s+(?=\S)"),
    )
}


def check_profiles(names) -> tuple[str, ...]:
    """The profile names, sorted and checked: ValueError names an unknown one
    and the known ones."""
    names = tuple(sorted(set(names or ())))
    unknown = [n for n in names if n not in PROFILES]
    if unknown:
        raise ValueError(f"unknown cleaning profile {unknown[0]!r} (known: {', '.join(sorted(PROFILES))})")
    return names


def _profile_bullets(profiles: tuple[str, ...]) -> re.Pattern | None:
    glyphs = [PROFILES[n].bullet for n in profiles]
    return re.compile(r"^\s*(?:" + "|".join(glyphs) + ")") if glyphs else None


def normalize_bullet(line: str, profile_bullets: re.Pattern | None = None) -> str:
    """Bullet glyphs (and those of the document's profiles) become "- " so
    list items stay distinguishable."""
    m = _BULLET.match(line) or (profile_bullets.match(line) if profile_bullets else None)
    if not m:
        return line
    return "- " + line[m.end():]


_HAS_DIGIT_CAPS = re.compile(r"\d[A-ZÄÖÜ]")
_GLUED_NUMBER = re.compile(r"(?<![\w.,/])(\d{1,2})(?=[A-ZÄÖÜ]{2,}\b)")


def unglue_chapter_number(line: str) -> str:
    """Chapter numbers glued to a heading: "1LIFE SCIENCE NORD" -> "1 LIFE SCIENCE NORD",
    "GOAL 2FACILITATE" -> "GOAL 2 FACILITATE". Only before a run of capitals, so
    "3D-Daten", "CO2", "S3-Plattform" stay."""
    if not _HAS_DIGIT_CAPS.search(line):
        return line
    return _GLUED_NUMBER.sub(r"\1 ", line)


_LETTER_SPACED = re.compile(r"\b(?:[A-ZÄÖÜ] ){3,}[A-ZÄÖÜ]\b")


def unspace_letters(line: str) -> str:
    """Letter-spaced display words: "V I S I O N" -> "VISION"."""
    return _LETTER_SPACED.sub(lambda m: m.group(0).replace(" ", ""), line)


def remove_end_marks(line: str) -> str:
    """The end-of-article square "■" is decoration."""
    if "■" not in line:
        return line
    return re.sub(r"\s*■\s*$", "", line).replace("■", "")


@dataclass(frozen=True)
class LineRule:
    """A named repair of one line: ``apply(line, profile_bullets)``."""

    name: str
    apply: object  # Callable[[str, re.Pattern | None], str]


def _markdown(s: str, _bullets=None) -> str:
    return strip_markdown(s) if ("[" in s or "\\" in s or "*" in s or "<" in s) else s


# In order: each rule gets the line as the rules before it left it.
LINE_RULES: tuple[LineRule, ...] = (
    LineRule("markdown-remnants", _markdown),
    LineRule("url-session-ids", lambda s, b: strip_session_ids(s)),
    LineRule("end-marks", lambda s, b: remove_end_marks(s)),
    LineRule("bullets", normalize_bullet),
    LineRule("glued-chapter-numbers", lambda s, b: unglue_chapter_number(s)),
    LineRule("letter-spacing", lambda s, b: unspace_letters(s)),
)


def fix_line(line: str, profile_bullets: re.Pattern | None = None) -> str:
    """``LINE_RULES``, in order, on one line (a page-start indent is kept)."""
    page_start = line.startswith(" ") and line.strip() != ""
    s = line.strip()
    if not s:
        return ""
    for rule in LINE_RULES:
        s = rule.apply(s, profile_bullets)
    s = s.rstrip()
    return (" " + s) if page_start and s else s


def recipe(profiles=()) -> str:
    """What the cleaning of a document is made of: the rules in order and its
    profiles. Ingest hashes it into each document's recipe, so that adding,
    removing or reordering a rule (or opting a document into a profile)
    re-cleans what it touches."""
    return ",".join([r.name for r in LINE_RULES] + [r.name for r in NOISE_RULES] + list(check_profiles(profiles)))


# --------------------------------------------------------------------------
# Joining two pieces of text (line break or block break)
# --------------------------------------------------------------------------


def _suspended_hyphen(stem: str, first: str, right: str) -> bool:
    """"Forschungs-" / "und Entwicklungsprojekte", "ERFOLGS-" / "UND WIRKUNGS-...":
    the hyphen stands for a word part the next words supply; it stays with a space.
    "Mess-" / "„Als überzeugte ..." is no such case (capitalised, after a quote)."""
    if not right[:1].isalpha() or first.lower() not in CONJUNCTIONS:
        return False
    return first.islower() or (first.isupper() and stem.isupper())


def hyphen_join(left: str, right: str, vocab: _Vocab) -> str:
    """Join ``left`` (ending in "word-") and ``right`` across a line break.

    Returns the joined text. Decisions, in order:
      * next word is a conjunction: suspended hyphen ("Aus- und") -> keep "- ";
      * next part starts upper case: a compound ("Schleswig-Holstein") -> keep "-",
        except ALL-CAPS headings where the joined word is known ("INTER-NATIONAL");
      * the document says which form it uses elsewhere ("Start-up" vs "Norgenta");
      * a chain compound whose parts are words of their own ("Life-Science-relevanten")
        or two known words ("well-being") keep the hyphen; otherwise join.
    """
    stem_tok = _WORD.findall(left[-60:])
    stem_word = stem_tok[-1] if stem_tok else ""
    m = _WORD.match(right.lstrip("„“\"'‚‘("))
    right_word = m.group(0) if m else ""
    body = left[:-1]
    if not right_word:
        return body + "-" + right
    first_part = re.split(r"[-‑]", right_word)[0]
    if _suspended_hyphen(stem_word, first_part, right):
        return body + "- " + right
    stem_last = re.split(r"[-‑]", stem_word)[-1] if stem_word else ""
    joined = stem_word + right_word
    hyph = stem_word + "-" + right_word
    if first_part[:1].isupper():
        # "Schleswig-" + "Holstein" keeps its hyphen; "Bio-" + "Economy" is the
        # document's "BioEconomy", "INTER-" + "NATIONAL" its "international"
        if vocab.form_count(joined) > 0 and vocab.form_count(hyph) == 0:
            return body + right
        return body + "-" + right
    cj, ch = vocab.form_count(joined), vocab.form_count(hyph)
    if ch > cj:
        return body + "-" + right
    if cj > ch:
        return body + right
    if stem_last.lower() in FUNCTION_WORDS:  # separable prefix: "aus-" + "gebaut"
        return body + right
    both_words = vocab.known(first_part) and (vocab.known(stem_last) or vocab.known(stem_last.lower()))
    if both_words and ("-" in stem_word or (vocab.lang == "en" and len(stem_last) > 2)):
        # a hyphen chain of words goes on ("Life-Science-" + "relevanten"), English
        # keeps "well-being"; German writes compounds closed ("entgegen-" + "wirken")
        return body + "-" + right
    return body + right


def plausible_hyphen_join(left: str, right: str, vocab: _Vocab) -> bool:
    """Across a block break a hyphen join needs evidence: "tref-" + "fen" is known
    as "treffen"; "tref-" + "der RoweMed" is not, so a caption in between wins."""
    stem_tok = _WORD.findall(left[-60:])
    stem_word = stem_tok[-1] if stem_tok else ""
    m = _WORD.match(right.lstrip("„“\"'‚‘("))
    right_word = m.group(0) if m else ""
    if not stem_word or not right_word:
        return False
    first_part = re.split(r"[-‑]", right_word)[0]
    if _suspended_hyphen(stem_word, first_part, right):
        return True
    if vocab.form_count(stem_word + right_word) or vocab.form_count(stem_word + "-" + right_word):
        return True
    if first_part[:1].isupper():
        return False
    # "word-" + lower case is a hyphenated word, unless the next block starts
    # with a function word ("tref-" + "der RoweMed AG": a caption came between)
    return first_part.lower() not in FUNCTION_WORDS


def missing_hyphen_join(left: str, right: str, vocab: _Vocab) -> bool:
    """A word split at a line end without a hyphen ("Energie" / "branche",
    "Clustermanage" / "ment", "Öffentlichkeits" / "arbeit"). Joined when the right
    part is no word of its own and
      * the joined word is known elsewhere in the document, or
      * the left part is no word of its own either and the right part occurs inside
        another word ("Lobby" / "einrichtung", cf. "Forschungseinrichtungen"), or
      * (German) the left part is a noun and the right part is a noun when
        capitalised that also occurs inside another word ("Energie" / "branche").
    "Geschichte" / "zurück." stays two words: "zurück" is inside no other word."""
    lw, rw = _last_word(left), _first_word(right)
    if not lw or not rw or not left.rstrip()[-1:].isalpha() or not right[:1].islower():
        return False
    if lw.lower() in FUNCTION_WORDS or rw in FUNCTION_WORDS:
        return False
    if vocab.exact[rw] - vocab.edge[rw] > 0:
        return False  # a word of its own somewhere inside a line
    if vocab.form_count(lw + rw) > 0:
        return True
    left_known = vocab.exact[lw] - vocab.edge_left[lw] > 0 or vocab.known(lw.lower())
    if not left_known:
        return len(rw) >= 3 and vocab.is_word_part(rw)
    # a German compound: noun + a lower-case part that is a noun of its own when
    # capitalised ("Energie" / "branche" -> "Energiebranche")
    return (
        vocab.lang == "de"
        and lw[:1].isupper()
        and len(rw) >= 4
        and vocab.known(rw[:1].upper() + rw[1:])
        and vocab.is_word_part(rw)
    )


def join_text(left: str, right: str, vocab: _Vocab) -> str:
    """Join two pieces of one paragraph, removing what the line break did to a word."""
    left = left.rstrip()
    right = right.strip()
    if not left:
        return right
    if not right:
        return left
    if left.endswith("-") and len(left) > 1:
        prev = left[-2]
        tail = left.split()[-1]
        if _URL_LINE.match(tail) or "://" in tail:
            return left + right  # a URL broken at its hyphen
        if prev.isalpha():
            return hyphen_join(left, right, vocab)
        return left + right  # "2017/2018-" style: keep as printed
    if left.endswith("/") and "://" not in left.split()[-1] and "www." not in left.split()[-1]:
        return left + right  # "Solares Bauen/" + "Energieeffiziente Stadt"
    if missing_hyphen_join(left, right, vocab):
        return left + right
    return left + " " + right


# --------------------------------------------------------------------------
# Blocks and units
# --------------------------------------------------------------------------


@dataclass
class _Unit:
    kind: str  # "para", "heading", "item", "note"
    text: str


@dataclass
class _Block:
    units: list[_Unit]
    page_start: bool = False

    @property
    def first(self) -> _Unit:
        return self.units[0]

    @property
    def last(self) -> _Unit:
        return self.units[-1]


_MD_HEADING = re.compile(r"^#{1,6}\s+\S")
_NUMBERED_HEADING = re.compile(r"^\d{1,2}(?:\.\d{1,2})*\.?\s+\S")
_NUMBERED_ITEM = re.compile(r"^\d{1,2}[.)]\s+\S")
_FOOTNOTE = re.compile(r"^\d{1,2}\)\s+\S")


def _is_bullet(line: str) -> bool:
    return line.startswith("- ")


def _line_width(lines: list[str]) -> float:
    lens = sorted(len(ln.strip()) for ln in lines if ln.strip())
    return lens[len(lens) // 2] if lens else 0.0


def _looks_like_heading(line: str, nxt: str | None, lang: str = "de") -> bool:
    """A short line without final punctuation, starting upper case, followed by a
    clearly longer line that starts a sentence ("Silberne Revolution" / "Vor allem
    in den westlich geprägten Ländern ..."). Narrow sidebar columns do not qualify:
    there the next line is not much longer."""
    s = line.strip()
    if not s or len(s) > HEADING_MAX_CHARS or len(s.split()) > HEADING_MAX_WORDS or _is_bullet(s):
        return False
    if not (s[0].isupper() or s[0].isdigit() or s[0] in "„\"“"):
        return False
    if _ends_strong_open(s) or (_is_terminal(s) and not s.endswith(":")):
        return False
    if s.endswith(":") and len(s) > SHORT_LINE:
        return False
    if lang == "de" and re.search(r"(?:^|\s)[a-zäöüß][^\W\d_]*(?:e|er|es|em)$", s):
        return False  # a German adjective wants its noun: "Auch vernetzende" / "Institutionen ..."
    if nxt is None:
        return False
    n = nxt.strip()
    if _is_bullet(n) or _is_caps(n):
        return True
    if not (n[:1].isupper() or n[:1].isdigit() or n[:1] in "„\"“"):
        return False
    return len(s) <= HEADING_SHARE_OF_NEXT * len(n)


def _numbered_heading(line: str) -> bool:
    """"3.2 Das Management von Life Science Nord", "1 Einführung", "5.1 VISION"."""
    s = line.strip()
    if not _NUMBERED_HEADING.match(s) or len(s) > NUMBERED_HEADING_MAX_CHARS:
        return False
    rest = re.sub(r"^\d{1,2}(?:\.\d{1,2})*\.?\s+", "", s)
    if not rest[:1].isupper() or re.match(r"^\d", rest):
        return False
    return not (_ends_strong_open(s) or _is_terminal(s))


def _numbered_runs(lines: list[str]) -> list[bool]:
    """Lines that belong to a numbered list: "1. ..." followed by "2. ...", etc."""
    nums = []
    for ln in lines:
        m = _NUMBERED_ITEM.match(ln)
        nums.append(int(re.match(r"\d+", ln).group(0)) if m else None)
    run = [False] * len(lines)
    for i in range(len(lines) - 1):
        if nums[i] is not None and nums[i + 1] == nums[i] + 1:
            run[i] = run[i + 1] = True
    return run


def build_units(lines: list[str], vocab: _Vocab) -> list[_Unit]:
    """Turn the lines of one block into paragraphs, headings and list items.

    Line breaks inside a paragraph are joined (with de-hyphenation); a heading line
    is not joined with the paragraph after it; ALL-CAPS lines that follow each other
    form one heading ("2 THE EMBEDDING OF / LIFE SCIENCE NORD INTO / ..."); bullet,
    numbered-item and footnote lines start new items.
    """
    units: list[_Unit] = []
    lines = [ln.strip() for ln in lines if ln.strip()]
    in_run = _numbered_runs(lines)
    for i, line in enumerate(lines):
        nxt = lines[i + 1] if i + 1 < len(lines) else None
        cur = units[-1] if units else None
        cur_closed = cur is None or _is_terminal(cur.text)
        if _is_bullet(line):
            units.append(_Unit("item", line[2:].strip()))
            continue
        if _MD_HEADING.match(line):
            units.append(_Unit("heading", line))  # a Markdown heading stays as it is
            continue
        if _COLUMN_GAP in line:
            units.append(_Unit("note", line))  # a table row stays a line of its own
            continue
        if in_run[i]:
            units.append(_Unit("item", line))
            continue
        if _FOOTNOTE.match(line) and cur_closed:
            units.append(_Unit("note", line))
            continue
        if cur is not None and cur.kind in ("para", "item", "note") and not cur_closed:
            # an open paragraph continues, whatever the next line looks like
            # ("... Part III “Social Challenges” |" / "1. Health, ...")
            if not (_is_caps(line) and not _ends_strong_open(cur.text) and not _is_caps(cur.text) and cur.kind != "item"):
                cur.text = join_text(cur.text, line, vocab)
                continue
        if _is_caps(line):
            if cur is not None and cur.kind == "heading" and _is_caps(cur.text):
                cur.text = join_text(cur.text, line, vocab)
            else:
                units.append(_Unit("heading", line))
            continue
        if cur is not None and cur.kind == "heading" and not _MD_HEADING.match(cur.text):
            if _starts_lower(line) or _ends_strong_open(cur.text) or (not re.search(r"[^\W\d_]", line)):
                cur.text = join_text(cur.text, line, vocab)  # a heading that goes on
                continue
        if _numbered_heading(line) and cur_closed:
            units.append(_Unit("heading", line))
            continue
        if (cur is None or cur_closed or cur.kind == "heading") and _looks_like_heading(line, nxt, vocab.lang):
            units.append(_Unit("heading", line))
            continue
        if cur is not None and cur.kind in ("para", "item", "note"):
            cur.text = join_text(cur.text, line, vocab)
            continue
        units.append(_Unit("para", line))
    # a short block without final punctuation is a title or label, not an open sentence
    if len(units) == 1 and units[0].kind == "para":
        t = units[0].text
        starts_fw = _starts_lower(t) and _first_word(t) in FUNCTION_WORDS  # "mit den Umbrüchen ..." goes on
        if (
            len(t) < TITLE_MAX_CHARS
            and len(t.split()) <= TITLE_MAX_WORDS
            and t[:1] not in "„“\""
            and not starts_fw
            and not _is_terminal(t)
            and not _ends_strong_open(t)
        ):
            units[0].kind = "heading"
    return units


def _split_at_page_starts(lines: list[str], stats: _DocStats) -> list[tuple[list[str], bool]]:
    """Split one blank-line block where a new PDF page starts inside it.

    The extraction marks a page start with a leading space. At a page start a quote
    box, caption or sidebar often begins, so the line is a block boundary when the
    text before it is finished or when the line does not fit the text before it.
    It stays joined when the text before it obviously goes on (hyphen with evidence,
    comma, function word, lower-case continuation, a known word pair like
    "Life" / "Science", or body text of the same width)."""
    blocks: list[tuple[list[str], bool]] = []
    cur: list[str] = []
    cur_start = bool(lines) and lines[0].startswith(" ")
    for i, raw in enumerate(lines):
        page_start = raw.startswith(" ")
        if cur and page_start and _page_start_is_boundary(cur, lines, i, stats):
            blocks.append((cur, cur_start))
            cur, cur_start = [], True
        cur.append(raw)
    if cur:
        blocks.append((cur, cur_start))
    return blocks


def _page_start_is_boundary(before: list[str], lines: list[str], i: int, stats: _DocStats) -> bool:
    p = before[-1].strip()
    line = lines[i].strip()
    nxt = lines[i + 1] if i + 1 < len(lines) else ""
    if _is_terminal(p) or _URL_LINE.match(p.split()[-1]) or p in stats.labels:
        return True
    if _is_bullet(line) or _FOOTNOTE.match(line) or _is_caps(line) != _is_caps(p):
        return True
    if _is_caps(line):
        return False  # an ALL-CAPS heading going on over a page break
    if _hyphen_open(p):
        return not plausible_hyphen_join(p, line, stats.vocab)
    if stats.vocab.bigrams[(_last_word(p).lower(), _first_word(line).lower())] >= 2:
        return False  # a known word pair: "... in the area of Life" / "Science and ..."
    if nxt.startswith(" ") or (len(before) == 1 and before[0].startswith(" ")):
        # a page holding one line (a caption) between two pages of running text
        return True
    if _starts_lower(line) or _ends_strong_open(p):
        return False
    first = _first_word(line)
    if first.lower() in FUNCTION_WORDS or line.endswith(":"):
        return True  # a capitalised function word starts a sentence
    if len(before) == 1 and len(p) < 60:
        return True  # the line before is a title of its own
    if _is_terminal(line) and (not nxt.strip() or _is_bullet(nxt.strip())):
        return False  # the short last line of the paragraph ("Bildgebung.")
    following = [line]
    for ln in lines[i + 1 : i + 3]:
        if not ln.strip() or ln.startswith(" ") or _is_bullet(ln.strip()):
            break
        following.append(ln)
    ratio = _line_width(following) / max(1.0, _line_width(before))
    return not (0.75 <= ratio <= 1.33)


def make_blocks(lines: list[str], stats: _DocStats) -> list[_Block]:
    """Blank lines separate blocks; page starts may too (see _split_at_page_starts)."""
    blocks: list[_Block] = []
    group: list[str] = []

    def flush() -> None:
        if not group:
            return
        for part, page_start in _split_at_page_starts(group, stats):
            units = build_units(part, stats.vocab)
            if units:
                blocks.append(_Block(units, page_start))
        group.clear()

    for line in lines:
        if line.strip():
            group.append(line)
        else:
            flush()
    flush()
    return blocks


# --------------------------------------------------------------------------
# Repairing sentences broken across blocks
# --------------------------------------------------------------------------

_WINDOW = 14  # how many blocks a quote box or caption may span


def _open(unit: _Unit) -> bool:
    return unit.kind in ("para", "item", "note") and not _is_terminal(unit.text)


def _is_pull_quote(block: _Block, stats: _DocStats) -> bool:
    """A short closed block whose text is printed elsewhere in the document too
    ("Wir wollen gemeinsam ... heraus!" repeats the foreword's first sentence)."""
    if len(block.units) != 1:
        return False
    t = block.first.text
    f = fold(t)
    if len(f) < 30 or len(t) > 300 or not _is_terminal(t):
        return False
    first = stats.folded.find(f)
    return first >= 0 and stats.folded.find(f, first + 1) >= 0


def repair_broken_sentences(blocks: list[_Block], stats: _DocStats) -> list[_Block]:
    """Join paragraphs that a page break, a quote box or a caption cut in two.

    * A block starting in lower case continues the nearest earlier block that ends
      mid-sentence (within a window of blocks); the boxes in between move behind the
      joined paragraph. ("... Hier wird" [quote box] "gemeinsam an Normierungen ...")
    * A block ending in a comma, dash, hyphen or function word continues into the
      next block even if that starts upper case ("... (KMU)," / "11 Prozent ...",
      "Mecklenburg-" / "Vorpommerns"), unless that block is a box after which the
      sentence goes on in lower case; pull quotes are skipped.
    * A paragraph ending in a lower-case word continues into the next paragraph if
      that is body text ("Wie kann die digitale" / "Transformation in der ...").
    * A lower-case block right after a short title continues the title.
    After a join the reading flow goes on in the joined paragraph, not in the box
    that now stands behind it.
    """
    vocab = stats.vocab
    out: list[_Block] = []
    flow = -1  # index in ``out`` of the block the reading flow is in
    for i, block in enumerate(blocks):
        c = block.first
        if c.kind in ("para", "note", "heading") and out:
            k = _continuation_target(out, flow, blocks, i, stats)
            if k is not None:
                target = out[k]
                a = target.last
                a.text = join_text(a.text, c.text, vocab)
                if a.kind == "heading" and (_is_terminal(a.text) or _ends_strong_open(a.text)):
                    a.kind = "para"
                target.units.extend(block.units[1:])
                flow = k
                continue
        out.append(block)
        flow = len(out) - 1
    return out


def _hyphen_open(text: str) -> bool:
    return text.endswith("-") and text[-2:-1].isalpha()


def _can_follow(left: str, right: str) -> bool:
    """An article is followed by a noun or adjective, not by a function word."""
    return not (_last_word(left).lower() in ARTICLES and _first_word(right).lower() in FUNCTION_WORDS)


def _box_follows(a: _Unit, blocks: list[_Block], i: int) -> bool:
    """Is blocks[i] the start of a box (caption, quote, contact) after which the
    sentence of ``a`` goes on? True when, before any other open text, a block
    starts in lower case with a word that can follow ``a``."""
    for block in blocks[i : i + _WINDOW]:
        first = block.first
        if _starts_lower(first.text) and first.kind != "heading":
            return _can_follow(a.text, first.text)
        if any(_open(u) for u in block.units):
            return False
    return False


def _continuation_target(out: list[_Block], flow: int, blocks: list[_Block], i: int, stats: _DocStats) -> int | None:
    """Index of the block in ``out`` that blocks[i] continues, or None."""
    c = blocks[i].first
    if c.text in stats.labels or _MD_HEADING.match(c.text):
        return None  # a repeated box label ("Stimmen aus dem Netzwerk") never continues a text
    if c.kind == "heading" and (_is_caps(c.text) or not _ends_strong_open(out[flow].last.text)):
        return None  # a title only continues a text that cannot end where it ends
    if _continues_directly(out[flow].last, blocks, i, stats):
        return flow
    k = _continues_after_box(out, flow, blocks, i, stats)
    if k is not None:
        return k
    if _continues_title(out[-1].last, c, stats):
        return len(out) - 1
    return None


def _continues_directly(a: _Unit, blocks: list[_Block], i: int, stats: _DocStats) -> bool:
    """Does blocks[i], starting upper case, go on with the text ``a`` just read?"""
    block = blocks[i]
    c = block.first
    vocab = stats.vocab
    if not _open(a) or _starts_lower(c.text) or c.text[:1] == "-":
        return False
    first = _first_word(c.text).lower()
    if _hyphen_open(a.text):  # "Mecklenburg-" / "Vorpommerns", with evidence
        return plausible_hyphen_join(a.text, c.text, vocab)
    if _ends_strong_open(a.text):  # ", " / "– " / "der": unless a box or pull quote comes first
        if first in FUNCTION_WORDS and _first_word(c.text)[:1].isupper():
            return False  # "Der Solarstrandkorb soll ...": a capitalised article starts a sentence
        return not _is_pull_quote(block, stats) and not _box_follows(a, blocks, i)
    if c.kind != "para" or first in FUNCTION_WORDS:
        return False
    if a.kind == "para" and a.text[-1:].isalpha() and vocab.bigrams[(_last_word(a.text).lower(), first)] >= 2:
        return True  # a known word pair: "sagt Klaus" / "Zelder von der Stadt"
    # German: an attributive adjective wants its noun ("Wie kann die digitale" /
    # "Transformation in der Wirtschaft"); not across a page start or before a box
    return (
        vocab.lang == "de"
        and bool(re.search(r"(?:^|\s)[a-zäöüß][^\W\d_]*(?:e|er|es|em)$", a.text))
        and not block.page_start
        and not c.text.endswith(":")
        and not _box_follows(a, blocks, i)
    )


def _continues_after_box(out: list[_Block], flow: int, blocks: list[_Block], i: int, stats: _DocStats) -> int | None:
    """The nearest earlier block that ends mid-sentence, skipping closed boxes,
    captions and labels, if blocks[i] can continue it."""
    block = blocks[i]
    c = block.first
    lower = _starts_lower(c.text)
    order = [flow] + [k for k in range(len(out) - 1, max(-1, len(out) - 1 - _WINDOW), -1) if k != flow]
    for k in order:
        a = out[k].last
        if not _open(a):
            continue
        if _hyphen_open(a.text):
            ok = plausible_hyphen_join(a.text, c.text, stats.vocab)
        elif lower:
            ok = _can_follow(a.text, c.text)
        else:
            # upper case after a box: only at a page start after a function word,
            # or when everything in between is a pull quote
            between = out[k + 1 :]
            ok = (
                bool(between)
                and _ends_strong_open(a.text)
                and (block.page_start or all(_is_pull_quote(b, stats) for b in between))
                and not _box_follows(a, blocks, i)
            )
        return k if ok else None
    return None


def _continues_title(last: _Unit, c: _Unit, stats: _DocStats) -> bool:
    """A short title that goes on in lower case ("Vorstandsvorsitzender" / "der RoweMed AG –")."""
    return (
        _starts_lower(c.text)
        and c.kind != "heading"
        and last.kind == "heading"
        and last.text not in stats.labels
        and not _is_caps(last.text)
        and not _MD_HEADING.match(last.text)
    )


# --------------------------------------------------------------------------
# Rules inside the finished paragraphs
# --------------------------------------------------------------------------


_SPLIT_TOKEN = re.compile(r"[^\W\d_]+")


def _split_candidates(text: str, vocab: _Vocab) -> list[tuple[int, int, list[str]]]:
    """Runs of 2-4 words separated only by spaces, the later ones lower case, whose
    concatenation is a word of the document: (start, end, parts).

    Only pairs that look like fragments are tried (a short part, a rare part, or a
    wide gap) - common word pairs like "in the" are skipped for speed."""
    cached = vocab._cand_cache.get(text)
    if cached is not None:
        return cached
    tokens = [(m.start(), m.end(), m.group(0)) for m in _SPLIT_TOKEN.finditer(text)]
    exact = vocab.exact
    out = []
    i = 0
    n = len(tokens)
    while i < n - 1:
        found = None
        joined = tokens[i][2]
        prev_part = joined
        for j in range(i + 1, min(i + 4, n)):
            gap = text[tokens[j - 1][1] : tokens[j][0]]
            part = tokens[j][2]
            if not gap or gap.strip(" ") or not part[0].islower() or part in FUNCTION_WORDS:
                break
            if not (
                len(prev_part) <= 4 or len(part) <= 4 or len(gap) >= 2
                or exact.get(prev_part, 0) <= 1 or exact.get(part, 0) <= 1
            ):
                break
            joined += part
            prev_part = part
            if vocab.form_count(joined) > 0:
                found = j
        if found is not None:
            out.append((tokens[i][0], tokens[found][1], [t[2] for t in tokens[i : found + 1]]))
            i = found + 1
        else:
            i += 1
    vocab._cand_cache[text] = out
    return out


def join_split_words(text: str, vocab: _Vocab) -> str:
    """Words split by spaces in justified text: "Ent wicklung", "internatio  na le",
    "Tech no logien", "länder übergreifend", "Mecklen burg-Vorpommern". Joined when
    the joined word occurs elsewhere in the document and some part is no word of its
    own; "in dem" (-> "indem") and "zu dem" stay because both parts are words."""
    edits = []
    for start, end, parts in _split_candidates(text, vocab):
        if all(vocab.known(p) or p.lower() in FUNCTION_WORDS for p in parts):
            continue
        if len(parts[-1]) < 3 and vocab.count("".join(parts)) == 0:
            continue  # "Forschungscampus e. V." is not "Forschungscampuse"
        if parts[0].lower() in FUNCTION_WORDS and not parts[0][:1].isupper():
            continue
        edits.append((start, end, "".join(parts)))
    for start, end, joined in reversed(edits):
        text = text[:start] + joined + text[end:]
    return text


def _split_word_vocab(texts: list[str]) -> _Vocab:
    """Counts for join_split_words, from the joined paragraphs. The parts of a
    candidate split ("Ent" "wicklung") do not count as words of their own."""
    vocab = _Vocab()
    vocab.add_tokens(_WORD.findall("\n".join(texts)), pairs=False)
    suspects: Counter = Counter()
    for t in texts:
        for _, _, parts in _split_candidates(t, vocab):
            suspects.update(parts)
    for w, n in suspects.items():
        vocab.exact[w] = max(0, vocab.exact[w] - n)
    return vocab


_ANY_SPACE_PUNCT = re.compile(r" [.,;:!?]")
_SPACE_BEFORE_PUNCT = re.compile(r"(?<=[^\W\d_])[ ]+([.,;:!?])(?=\s|$|[\"“”)])")
_SPACE_IN_HYPHEN = re.compile(r"([^\W\d_]+) -(?=[^\W\d_])")
_HYPHEN_SPACE = re.compile(r"(?<=[^\W\d_])- (?=([^\W\d_]+))")


def fix_punctuation_spacing(text: str) -> str:
    """Odd spacing from justified layout: "Biotechnologie ." -> "Biotechnologie.",
    "Abb . 1" -> "Abb. 1", "Life-Science -Netzwerke" -> "Life-Science-Netzwerke".
    "und -produktion" (an elided compound) and "Tel.: 040.471 96 -400" keep their space."""
    if _ANY_SPACE_PUNCT.search(text):
        text = _SPACE_BEFORE_PUNCT.sub(r"\1", text)
    if " -" not in text:
        return text
    return _SPACE_IN_HYPHEN.sub(
        lambda m: m.group(0) if m.group(1).lower() in FUNCTION_WORDS else m.group(1) + "-", text
    )


def fix_hyphen_space(text: str, vocab: _Vocab) -> str:
    """A hyphen followed by a space inside a compound ("Schleswig- Holstein",
    "cross- sectoral") loses the space; a suspended hyphen before a conjunction or in
    an enumeration ("Aus- und Weiterbildung", "Sensorik-, Optik-") keeps it."""

    def repl(m: re.Match) -> str:
        nxt = m.group(1)
        if nxt.lower() in CONJUNCTIONS:
            return m.group(0)
        left = _WORD.findall(text[max(0, m.start() - 40) : m.start()])
        stem = left[-1] if left else ""
        if nxt[:1].isupper() and not nxt.isupper():
            return "-"
        if vocab.count(stem + "-" + nxt) > 0:
            return "-"
        return m.group(0)

    if "- " not in text:
        return text
    return _HYPHEN_SPACE.sub(repl, text)


def tidy(text: str) -> str:
    """Collapse runs of spaces, trim."""
    if "  " not in text and _COLUMN_GAP not in text:
        return text.strip()
    return re.sub(r"[ \u2003]{2,}| ?\u2003 ?", " ", text).strip()


def finish_unit(text: str, split_vocab: _Vocab, vocab: _Vocab) -> str:
    """The rules that work on a finished paragraph, in order."""
    text = tidy(text)
    text = join_split_words(text, split_vocab)
    text = fix_punctuation_spacing(text)
    text = fix_hyphen_space(text, vocab)
    return tidy(text)


def render(blocks: list[_Block], split_vocab: _Vocab, vocab: _Vocab) -> str:
    """Paragraphs and headings separated by one blank line; list items of one block
    one per line with "- "."""
    paras: list[str] = []
    for block in blocks:
        items: list[str] = []
        for unit in block.units:
            text = finish_unit(unit.text, split_vocab, vocab)
            if not text:
                continue
            if unit.kind == "item" and not _NUMBERED_ITEM.match(text):
                items.append("- " + text)
                continue
            if unit.kind == "item":
                items.append(text)
                continue
            if items:
                paras.append("\n".join(items))
                items = []
            paras.append(text)
        if items:
            paras.append("\n".join(items))
    return "\n\n".join(p for p in paras if p.strip())


# --------------------------------------------------------------------------
# API
# --------------------------------------------------------------------------


def clean_pages(pages: list[str], profiles=()) -> list[str]:
    """Clean the pages of one document. Statistics (vocabulary, running headers,
    repeated labels) are taken over the whole document; each page is cleaned on its
    own and comes back as paragraphs separated by one blank line. ``profiles``:
    the source quirks (``PROFILES``) the document opts into."""
    bullets = _profile_bullets(check_profiles(profiles))
    pages = [normalize_chars(p or "") for p in pages]
    page_lines = [p.split("\n") for p in pages]
    all_lines = [ln for lines in page_lines for ln in lines]
    fixed_all = [fix_line(ln, bullets) for ln in all_lines]
    page_of = [k for k, lines in enumerate(page_lines) for _ in lines]
    stats = _doc_stats(fixed_all, page_of)
    stage: list[list[_Block]] = []
    pos = 0
    for lines in page_lines:
        fixed = drop_noise_lines(fixed_all[pos : pos + len(lines)], stats, pos)
        pos += len(lines)
        blocks = make_blocks(fixed, stats)
        stage.append(repair_broken_sentences(blocks, stats))
    split_vocab = _split_word_vocab([tidy(u.text) for blocks in stage for b in blocks for u in b.units])
    return [render(blocks, split_vocab, stats.vocab) for blocks in stage]


def clean_text(text: str, profiles=()) -> str:
    """Clean one text: ``clean_pages([text], profiles)[0]``."""
    return clean_pages([text], profiles)[0]
