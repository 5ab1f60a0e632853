"""What a question asks for, read from its words: the kind of answer (a
count, a date, an amount, a person, contact details), whether it wants a
list, what is being counted. General cues only; no document's words."""

from __future__ import annotations

import functools
import itertools
import re

from ..lexical import STOPWORDS, analyze
from ..translate import Lexicon

# ---------------------------------------------------------------- question form

_LIST_CUES = re.compile(
    r"\b(nenne|nennen|liste|aufz[äa]hl\w*|list|name the|enumerate|what are|which are|welche sind)\b", re.IGNORECASE
)
# after "which"/"what", the words that end the noun phrase it asks about
_EN_STOP = set(
    """is are was were does do did has have had can could will would should shall may might must
    of in for on at to with from by""".split()
)
_PART_CUES = re.compile(
    r"\b(und|and)\s+(wie|wer|was|wo|wann|welche\w*|warum|worauf|womit|how|who|what|where|when|which|why|in welche\w*|in which|is there)\b",
    re.IGNORECASE,
)


# What a question asks for, by cue words. "Mittel" is money as a word of its own
# or in a funding compound ("Haushaltsmittel"), not in "Desinfektionsmittel",
# "Arzneimittel" or "Mittelstand". Each kind has a test a sentence that
# answers it passes: a question asking "how much does it cost" is not answered
# by a sentence without an amount of money, whatever else it shares with it.
_Q_MONEY = re.compile(
    r"\b(how much|wie viel|wie hoch)\b.*\b(cost\w*|price\w*|fee\w*|fund\w*|budget\w*|money|pay\w*|spend\w*|"
    r"\w*(?:kost|preis|gebühr|beitr[äa]g|förder|finanz|geld|budget)\w*|(?:haushalts|eigen|dritt|bundes|landes|projekt)?mitteln?|"
    r"zahl(?:t|en))\b"
    r"|\b(was|what)\b.*\b(kostet|kosten|costs?)\b|\b(wie teuer|how expensive)\b"
    r"|\b(welche[nrs]?|what|which)\s+((?-i:[a-zäöü]\w*)\s+)?(kosten|preise?|gebühre?n?|costs?|prices?|fees?)\b",
    re.IGNORECASE,
)
# "when" as a question word, not as a conjunction ("… when the masterplan was written")
_Q_DATE = re.compile(
    r"(^\W*|\b(und|and|or|oder)\s+|[,;–—]\s*)(wann|when)\b|\b(seit wann|since when|in welchem jahr|in which year|"
    r"zum ersten mal|erstmals|for the first time)\b",
    re.IGNORECASE,
)
_Q_COUNT = re.compile(
    r"\b(wie viele|wieviele|how many|anzahl|zahl der|zahl an|(?<!phone )(?<!fax )number of)\b", re.IGNORECASE
)
_Q_NUMBER = re.compile(
    r"\b(wie gro[ßs]|wie hoch|wie stark|how big|how large|how high|what share|welchen anteil|anteil|share|"
    r"percent\w*|prozent\w*|figures?|zahlen|zahl)\b",
    re.IGNORECASE,
)
_Q_PERSON = re.compile(r"^\W*(wer|who)\b", re.IGNORECASE)
_Q_FREQUENCY = re.compile(
    r"\b(wie oft|wie häufig|wie regelmäßig|in welche[mn] (rhythmus|turnus|abstand|abständen)|"
    r"how often|how frequently|how regularly)\b",
    re.IGNORECASE,
)
# "address" as a noun ("the address of …", "postal address"), not the verb
# ("how does LSN address the shortage …")
_Q_CONTACT = re.compile(
    r"\b(adresse|anschrift|postanschrift|phone|telephone|telefon\w*|fax|e-?mail|contact details|kontaktdaten|"
    r"website|webseite|homepage|internetseite|internetadresse)\b"
    r"|\b(the|an|its|their|postal|mailing|street|office|web|e-?mail)\s+address\b|\baddress\s+(of|for)\b|\baddress\s*\?",
    re.IGNORECASE,
)
_MONEY = re.compile(r"(€|\$|\b(EUR|Euro|Mio|Mrd|Millionen|Milliarden|million|billion|Tsd)\b)", re.IGNORECASE)
_MONTHS = (
    "januar|februar|märz|april|mai|juni|juli|august|september|oktober|november|dezember|"
    "january|february|march|may|june|july|october|december"
)
_DATE = re.compile(rf"\b(1[89]\d\d|20\d\d)\b|\b({_MONTHS})\b|\b\d{{1,2}}\.\s?\d{{1,2}}\.", re.IGNORECASE)
_YEAR = re.compile(r"^(1[89]|20)\d\d$")
_NUMBER_WORDS = set(
    """zwei drei vier fünf sechs sieben acht neun zehn elf zwölf zwanzig dreißig vierzig fünfzig hundert tausend
    dutzend dutzende hunderte tausende two three four five six seven eight nine ten eleven twelve twenty thirty
    forty fifty hundred hundreds thousand thousands dozen dozens""".split()
)
_PERSON = re.compile(r"\b(Dr\.|Prof\.|Herr|Frau|Mr\.?|Mrs\.?|Ms\.?)\s")
_FREQUENCY = re.compile(
    r"\b((halb|viertel)?jährlich|monatlich|wöchentlich|täglich|quartalsweise|jedes jahr|"
    r"alle \w+ (jahre|monate|wochen|tage)|(ein|zwei|drei|vier|fünf|\d+)\s*-?\s*(mal|x) (im|pro|je) "
    r"(jahr|monat|woche|quartal)|"
    r"(im|pro|je) (jahr|monat|quartal)|annual(ly)?|yearly|monthly|weekly|daily|"
    r"every (\w+ )?(years?|months?|weeks?|days?)|(once|twice|\w+ times) (a|per|each) (year|month|week)|"
    r"per (year|month))\b",
    re.IGNORECASE,
)
# contact details: an e-mail or web address, a phone number, a postcode with its town
_CONTACT = re.compile(
    r"[\w.+-]+@[\w-]+\.\w+|\bwww\.\S+|https?://\S+|(?:\+|\b0)\d[\d\s/().-]{6,}\d|\b(?:Tel|Fax)\b\.?:?"
    r"|\b\d{5}\s+[A-ZÄÖÜ][a-zäöüß]+",
)
_TOKEN = re.compile(r"\w[\w.,]*\w|\w", re.UNICODE)
# the number of a heading or a caption ("6 THE FUTURE …", "Abb. 2: …"), which is no figure
_LABEL = re.compile(
    r"^\W*((Abb|Abbildung|Fig|Figure|Tab|Tabelle|Table|Kapitel|Chapter)\.?\s*)?[\d.]*\d[.:)]?\s(?!\s*%)", re.IGNORECASE
)
_CONJ = {"und", "and", "oder", "or", "sowie"}
# a count stands within this many content words of the counted thing ("rund 250
# Akteure aus Wissenschaft und Wirtschaft im Cluster als Mitglieder": five); the
# answer model's ``count_window``, fitted by scripts/fit_answerer.py, is used instead
COUNT_WINDOW = 6


def answer_types(question: str) -> set[str]:
    """What kind of thing the question wants: "money" (how much … cost),
    "date" (wann, when), "count" (wie viele, how many), "number" (how big,
    what share), "person" (a question opening with wer/who), "frequency"
    (how often, wie regelmäßig), "contact" (an address, a phone number, a
    website)."""
    out = set()
    if _Q_MONEY.search(question):
        out.add("money")
    if _Q_DATE.search(question):
        out.add("date")
    if _Q_COUNT.search(question):
        out.add("count")
    elif _Q_NUMBER.search(question) and "money" not in out:
        out.add("number")
    if _Q_PERSON.search(question):
        out.add("person")
    if _Q_FREQUENCY.search(question):
        out.add("frequency")
    if _Q_CONTACT.search(question):
        out.add("contact")
    return out


def is_contact_line(text: str) -> bool:
    """Contact details and little else ("+49 381 650 70 90 info@bcv.org
    www.bioconvalley.org"): an answer to where or how to reach someone, to
    nothing else."""
    if not _CONTACT.search(text):
        return False
    rest = _CONTACT.sub(" ", text)
    return sum(1 for w in re.findall(r"[^\W\d_]{2,}", rest) if w.islower()) <= 2


def counted_words(question: str) -> list[str]:
    """The words after "how many"/"wie viele"/"Zahl der": what is being counted
    ("how many hydrogen filling stations have …" -> hydrogen, filling, stations)."""
    m = _Q_COUNT.search(question)
    if not m:
        return []
    words = re.findall(r"[\w\-]+|[,–—?]", question[m.end():])
    out: list[str] = []
    for w in words:
        low = w.lower()
        if not out and low in ("of", "its", "the", "their", "der", "die", "das", "an", "von", "den"):
            continue
        if low in _CONJ or w == ",":
            continue
        if not w[0].isalnum() or low in STOPWORDS["de"] or low in STOPWORDS["en"]:
            break
        out.append(w)
        if len(out) >= 5:
            break
    return out


# A number followed by one of these measures something else than a count of things:
# "vier bis fünf Mal im Jahr", "um 150 Prozent", "seit 20 Jahren", "5 Mio. Euro".
_MEASURE = re.compile(
    r"^(?:mal|times|prozent|percent|jahre?n?|years?|monate?n?|months?|wochen?|weeks?|tage?n?|days?|stunden?|"
    r"hours?|minuten?|minutes?|euro|eur|mio|millionen|million|millions|mrd|milliarden|billion|billions|"
    r"kilometer|km|meter|m²|qm|quadratmeter)$",
    re.IGNORECASE,
)
_RANGE_WORDS = frozenset({"bis", "to", "oder", "or", "und", "and"})


def _is_count(tokens: list[str], i: int) -> bool:
    """Whether the number at ``i`` counts something (not "fünf Mal", "150 Prozent")."""
    for t in tokens[i + 1 : i + 4]:
        low = t.lower()
        if low in _RANGE_WORDS or low in _NUMBER_WORDS or t[0].isdigit():
            continue  # "vier bis fünf Mal": look past the range
        return not _MEASURE.match(low)
    return True


def _numbers_in(tokens: list[str], question_tokens: set[str], count: bool) -> list[int]:
    out = []
    for i, t in enumerate(tokens):
        low = t.lower()
        if low in question_tokens:
            continue
        if low in _NUMBER_WORDS or (t[0].isdigit() and any(ch.isdigit() for ch in t)):
            if count and (_YEAR.match(t) or not _is_count(tokens, i)):
                continue  # a year, a frequency, a share or an amount is no count
            out.append(i)
    return out


def _stem_in(term: str, stems: frozenset[str]) -> bool:
    """A question stem is in a sentence: as is, or as part of a compound
    ("mitglied" in "neumitglied"). Direct string tests, no call per pair:
    this runs for every stem of every unit."""
    if term in stems:
        return True
    return len(term) >= 5 and any(
        len(s) >= 5 and (term.startswith(s) or s.startswith(term) or term.endswith(s) or s.endswith(term)) for s in stems
    )


@functools.lru_cache(maxsize=262144)  # the same pairs recur across a question's units
def _stem_match(a: str, b: str) -> bool:
    """Two stems match as ``_stem_in`` matches one against a sentence's."""
    return _stem_in(a, frozenset((b,)))


def typed_match(text: str, wants: set[str], question: str = "", counted: list[set[str]] | None = None,
                lang: str = "de", name_words: frozenset[str] = frozenset(), window: int = COUNT_WINDOW) -> bool:
    """Whether a sentence holds something of the kind the question asks for
    (any one of ``wants``). Numbers the question itself names do not count;
    a count must stand within ``window`` content words of the counted thing
    (function words left out: English needs more of them than German to say
    the same, "are integrated in the cluster as members" / "im Cluster als
    Mitglieder")."""
    if not wants:
        return False
    q_tokens = {t.lower() for t in _TOKEN.findall(question)}
    if "money" in wants and _MONEY.search(text) and _numbers_in(_TOKEN.findall(text), q_tokens, False):
        return True
    if "date" in wants:
        for m in _DATE.finditer(text):
            before = re.findall(r"\w+", text[: m.start()])
            if before and before[-1].lower() in name_words:
                continue  # "Clusterstrategie 2024" names a document, it dates nothing
            if m.group(0).lower().strip(". ") not in q_tokens:
                return True
    tokens = _TOKEN.findall(text)
    if "count" in wants:
        numbers = _numbers_in(tokens, q_tokens, True)
        if numbers and not counted:
            return True
        if numbers:
            # each token's place among the content words (a function word takes none)
            place, at = [], 0
            for t in tokens:
                place.append(at)
                at += t.lower() not in STOPWORDS["de"] and t.lower() not in STOPWORDS["en"]
            for i, t in enumerate(tokens):
                stems = analyze(t, lang)
                if not stems:
                    continue
                if any(_stem_match(stems[0], f) for forms in counted for f in forms):
                    if any(abs(place[i] - place[j]) <= window for j in numbers):
                        return True
    if "number" in wants and _numbers_in(_TOKEN.findall(_LABEL.sub("", text)), q_tokens, False):
        return True
    if "person" in wants and _PERSON.search(text):
        return True
    if "frequency" in wants and _FREQUENCY.search(text):
        return True
    if "contact" in wants and _CONTACT.search(text):
        return True
    return False


def is_list_question(question: str) -> bool:
    """Whether the question asks for several things: by a cue ("nenne",
    "list", "what are"), or by "welche"/"which" with a plural noun ("Welche
    Themenfelder …", "which stages …"; not "Welche Rolle …", "which year")."""
    if _LIST_CUES.search(question):
        return True
    return any(_plural(noun, lang) for noun, lang in _asked_nouns(question))


def _asked_nouns(question: str) -> list[tuple[str, str]]:
    """The noun after each "welche"/"which"/"what", with its language: in
    German the first capitalised word after it, in English the last word
    before a verb or a preposition."""
    out = []
    for m in re.finditer(r"\b(welche|welchen|which|what)\b", question, re.IGNORECASE):
        words = re.findall(r"[\w\-']+", question[m.end():])[:6]
        if m.group(1).lower().startswith("welche"):
            out += [(w, "de") for w in words if w[:1].isupper()][:1]
        else:
            out += [(w, "en") for w in list(itertools.takewhile(lambda w: w.lower() not in _EN_STOP, words))[-1:]]
    return out


def _plural(noun: str, lang: str) -> bool:
    """A plural noun: its lemma differs ("Themenfelder" -> "Themenfeld",
    "stages" -> "stage"), or that of a German compound's last part
    ("Krankheitsgebiete" -> "Gebiet")."""
    import simplemma

    if lang == "de":
        parts = Lexicon.default().split_compound(noun)
        forms = [noun, parts[-1].capitalize()] if parts else [noun]
        return any(simplemma.lemmatize(w, lang="de").lower() != w.lower() for w in forms)
    low = noun.lower()
    return low.endswith("s") and not low.endswith(("ss", "us", "is")) and simplemma.lemmatize(low, lang="en") != low


def question_parts(question: str) -> int:
    """How many things a question asks for: "Wie viele …, und wie stark …?" is two."""
    marks = max(1, question.count("?"))
    return marks + len(_PART_CUES.findall(question))


