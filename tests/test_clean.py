"""Cleaning of the extracted corpus text (ingest/clean.py).

Every rule is tested on a real excerpt copied from the corpus files, with the
expected output written out in full. The corpus-wide tests check what the
evaluation depends on: every gold quote of the dev sets must still be found
(folded) in the cleaned text of its document, and cleaning must remove little.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from ingest.clean import LINE_RULES, NOISE_RULES, PROFILES, clean_pages, clean_text, recipe
from ingest.load import read_manifest

REPO = Path(__file__).resolve().parent.parent
CORPUS = REPO / "corpus"
TESTSETS = REPO / "eval" / "testsets"
DOCS = sorted(p.name for p in CORPUS.glob("*.txt"))


def fold(s: str) -> str:
    """Lower case, letters and digits only (unicode-aware)."""
    return "".join(ch for ch in s.lower() if ch.isalnum())


# the source quirks these files opt into in corpus/manifest.toml
MASTERPLAN_QUIRKS = ("wingdings-t-bullets",)
STRATEGY_EN_QUIRKS = ("symbol-font-bullets",)


def fold_strict(s: str) -> str:
    """The evaluation's fold: 0-9 a-z ä ö ü ß only."""
    return re.sub(r"[^0-9a-zäöüß]+", "", s.lower())


@pytest.fixture(scope="module")
def cleaned() -> dict[str, tuple[str, str]]:
    """doc -> (raw text, cleaned text) for the whole corpus."""
    out = {}
    manifest = read_manifest(CORPUS)
    for name in DOCS:
        raw = (CORPUS / name).read_text(encoding="utf-8")
        out[name] = (raw, clean_text(raw, manifest.entries.get(name, {}).get("clean", ())))
    return out


# --------------------------------------------------------------------------
# Hyphenation and split words
# --------------------------------------------------------------------------


def test_dehyphenates_words_broken_at_line_end():
    raw = (
        "Bei der Entwicklung einer Handlungsstrategie für das Netzwerk Life Science Nord wurde Nor-\n"
        "genta von Capgemini unterstützt. Gemeinsam wurden die Kompetenzen von LSN herausgearbei-\n"
        "tet und daraus profilbildende Schwerpunkte abgeleitet."
    )
    assert clean_text(raw) == (
        "Bei der Entwicklung einer Handlungsstrategie für das Netzwerk Life Science Nord wurde "
        "Norgenta von Capgemini unterstützt. Gemeinsam wurden die Kompetenzen von LSN "
        "herausgearbeitet und daraus profilbildende Schwerpunkte abgeleitet."
    )


def test_keeps_the_hyphen_of_a_compound_before_a_capital():
    raw = (
        "Förderungs- und Finanzierungsinstrumente sind für alle Bereiche vorhanden – von der Innova-\n"
        "tions-Entwicklung bis hin zu einem erfolgreichen Produkt oder einer Dienstleistung. Schleswig-\n"
        "Holstein hat zum Beispiel ein ausdifferenziertes Fördersystem entwickelt, das den Life Sciences \n"
        "als Schwerpunktbereich überdurchschnittlich zu Gute kommt."
    )
    assert clean_text(raw) == (
        "Förderungs- und Finanzierungsinstrumente sind für alle Bereiche vorhanden – von der "
        "Innovations-Entwicklung bis hin zu einem erfolgreichen Produkt oder einer Dienstleistung. "
        "Schleswig-Holstein hat zum Beispiel ein ausdifferenziertes Fördersystem entwickelt, das den "
        "Life Sciences als Schwerpunktbereich überdurchschnittlich zu Gute kommt."
    )


def test_keeps_a_suspended_hyphen_before_und():
    raw = (
        "Alternde Gesellschaften werden jedoch zunehmend \n"
        "geprägt durch bestimmte Krankheiten wie Krebs, Stoffwechselerkrankungen, neurodegenerati-\n"
        "ve Krankheiten, Herz-Kreislauf-Erkrankungen sowie Erkrankungen des Stütz- und Bewegungs-\n"
        "apparates."
    )
    assert clean_text(raw) == (
        "Alternde Gesellschaften werden jedoch zunehmend geprägt durch bestimmte Krankheiten wie "
        "Krebs, Stoffwechselerkrankungen, neurodegenerative Krankheiten, Herz-Kreislauf-Erkrankungen "
        "sowie Erkrankungen des Stütz- und Bewegungsapparates."
    )


def test_document_evidence_decides_between_hyphen_and_join():
    # "Start-ups" is written with a hyphen elsewhere in the document, so "Start-" +
    # "ups" keeps it; "Forschungs-" + "institute" has no such evidence and is joined.
    raw = (
        "Aktuell profitieren überwiegend KMU \n"
        "von den Angeboten der SPS. Dazu kommen zwölf \n"
        "Hochschulen und Universitäten, drei Forschungs-\n"
        "institute und zwölf Großunternehmen. Für Start-\n"
        "ups gibt es in Bayern ein gut ausgebautes An-\n"
        "gebot an regionalen Gründerzentren.\n"
        "\n"
        "Die Initiative unterstützt Start-ups und KMU."
    )
    assert clean_text(raw) == (
        "Aktuell profitieren überwiegend KMU von den Angeboten der SPS. Dazu kommen zwölf "
        "Hochschulen und Universitäten, drei Forschungsinstitute und zwölf Großunternehmen. Für "
        "Start-ups gibt es in Bayern ein gut ausgebautes Angebot an regionalen Gründerzentren.\n"
        "\n"
        "Die Initiative unterstützt Start-ups und KMU."
    )


def test_keeps_a_hyphen_chain_of_words():
    # "Life-Science-" + "relevanten": both parts are words of the document.
    raw = (
        "Handlungsempfehlungen\n"
        "t Der Bedarf für ein optimales Qualifizierungsangebot wird strukturiert abgefragt;\n"
        "t Ausbildungsmaßnahmen, die dem Profil des Netzwerks entsprechen und den Life-Science-\n"
        "\n"
        "relevanten Bereichen mehr Qualität verleihen, werden ausgebaut;\n"
        "\n"
        "Die Technologietransfer-Beauftragten der Universitäten sehen sich als Dienstleister für die "
        "relevanten Bereiche der Life Science."
    )
    assert clean_text(raw, MASTERPLAN_QUIRKS) == (
        "Handlungsempfehlungen\n"
        "\n"
        "- Der Bedarf für ein optimales Qualifizierungsangebot wird strukturiert abgefragt;\n"
        "- Ausbildungsmaßnahmen, die dem Profil des Netzwerks entsprechen und den "
        "Life-Science-relevanten Bereichen mehr Qualität verleihen, werden ausgebaut;\n"
        "\n"
        "Die Technologietransfer-Beauftragten der Universitäten sehen sich als Dienstleister für die "
        "relevanten Bereiche der Life Science."
    )


def test_joins_words_split_by_spaces_when_the_document_knows_the_word():
    raw = (
        "Dabei orientiert sich Life Science Nord an wichtigen gesellschaftlichen Trends, die auch die \n"
        "Ent wicklung von medizinischen Produkten und Dienstleistungen beeinflussen werden.\n"
        "\n"
        "Die Agentur ist außerdem für die nationale und internatio  na le  Gesamtdarstel-\n"
        "lung der Life Sciences in Hamburg und Schleswig-Holstein verantwortlich.\n"
        "\n"
        "Die internationale Vermarktung und Kommunikation wird ausgebaut. Bei der Entwicklung einer "
        "Handlungsstrategie wurde Norgenta von Capgemini unterstützt. Die Entwicklung neuer Technologien."
    )
    assert clean_text(raw) == (
        "Dabei orientiert sich Life Science Nord an wichtigen gesellschaftlichen Trends, die auch die "
        "Entwicklung von medizinischen Produkten und Dienstleistungen beeinflussen werden.\n"
        "\n"
        "Die Agentur ist außerdem für die nationale und internationale Gesamtdarstellung der Life "
        "Sciences in Hamburg und Schleswig-Holstein verantwortlich.\n"
        "\n"
        "Die internationale Vermarktung und Kommunikation wird ausgebaut. Bei der Entwicklung einer "
        "Handlungsstrategie wurde Norgenta von Capgemini unterstützt. Die Entwicklung neuer Technologien."
    )


def test_does_not_join_two_real_words():
    # "ein  regionales" has a wide gap but both are words; "in dem" would make "indem".
    raw = (
        "Daraus ist ein so genannter Cluster, ein  regionales \n"
        "Netzwerk, entstanden. Auch vernetzende \n"
        "Institutionen wie die Arbeitsgemeinschaft Medizintechnik blicken auf eine langjährige Geschichte \n"
        "zurück. In dem Strategieprozess wurde indem gearbeitet."
    )
    assert clean_text(raw) == (
        "Daraus ist ein so genannter Cluster, ein regionales Netzwerk, entstanden. Auch vernetzende "
        "Institutionen wie die Arbeitsgemeinschaft Medizintechnik blicken auf eine langjährige "
        "Geschichte zurück. In dem Strategieprozess wurde indem gearbeitet."
    )


def test_joins_a_word_split_at_a_line_end_without_hyphen():
    # "branche" is no word of its own here, but "Branche" is, and it ends "Digitalbranche".
    raw = (
        "Heute ist die Clusterinitiative OLEC e. V. das größte \n"
        "technologieübergreifende Netzwerk der Energie\n"
        "branche im Nordwesten Deutschlands.\n"
        "\n"
        "Die Digitalbranche wächst, die Branche auch."
    )
    assert clean_text(raw) == (
        "Heute ist die Clusterinitiative OLEC e. V. das größte technologieübergreifende Netzwerk der "
        "Energiebranche im Nordwesten Deutschlands.\n"
        "\n"
        "Die Digitalbranche wächst, die Branche auch."
    )


def test_joins_a_word_broken_by_a_thin_space_free_e_v():
    raw = "Gemeinsam bewarben sich die drei Cluster InfectoGnostics Forschungscampus e.\u2009V., ITNet e.\u2009V. und medways e.\u2009V."
    assert clean_text(raw) == (
        "Gemeinsam bewarben sich die drei Cluster InfectoGnostics Forschungscampus e. V., ITNet e. V. "
        "und medways e. V."
    )


# --------------------------------------------------------------------------
# Bullets and lists
# --------------------------------------------------------------------------


def test_masterplan_t_bullets_become_list_items():
    raw = (
        "Diese Maßnahmen konzentrieren sich auf vier Handlungsbereiche:\n"
        "t inhaltliche Ausrichtung;\n"
        "t Verbesserung der Rahmenbedingungen;\n"
        "t organisatorische Ausrichtung; \n"
        "t Vermarktung des Clusters."
    )
    assert clean_text(raw, MASTERPLAN_QUIRKS) == (
        "Diese Maßnahmen konzentrieren sich auf vier Handlungsbereiche:\n"
        "\n"
        "- inhaltliche Ausrichtung;\n"
        "- Verbesserung der Rahmenbedingungen;\n"
        "- organisatorische Ausrichtung;\n"
        "- Vermarktung des Clusters."
    )


def test_bullet_item_goes_on_after_a_blank_line():
    raw = (
        "Handlungsempfehlungen\n"
        "t bestehende Schwerpunktthemen und Leuchtturmprojekte werden nachhaltig \n"
        "\n"
        " weiter entwickelt;\n"
        "t die Schwerpunkte werden auf ihre Umsetzbarkeit hin überprüft;"
    )
    assert clean_text(raw, MASTERPLAN_QUIRKS) == (
        "Handlungsempfehlungen\n"
        "\n"
        "- bestehende Schwerpunktthemen und Leuchtturmprojekte werden nachhaltig weiter entwickelt;\n"
        "- die Schwerpunkte werden auf ihre Umsetzbarkeit hin überprüft;"
    )


def test_replacement_char_and_other_glyph_bullets():
    raw_en = (
        "The following focal points were identified with the involvement \n"
        "of the LSN e.V. Executive Board:\n"
        "\n"
        " \ufffd Infection and hygiene\n"
        "\n"
        " \ufffd Bone healing\n"
        "\n"
        "PLANNED MEASURES\n"
        "  \u0105  conducting a best-practice analysis of “Life Science Test Fields”, which will pro-\n"
        "duce a situation analysis of the current international status quo,\n"
        "\n"
        " \u0105 Exploring financing possibilities or acquiring financial resources,"
    )
    assert clean_text(raw_en, STRATEGY_EN_QUIRKS) == (
        "The following focal points were identified with the involvement of the LSN e.V. Executive Board:\n"
        "\n"
        "- Infection and hygiene\n"
        "\n"
        "- Bone healing\n"
        "\n"
        "PLANNED MEASURES\n"
        "\n"
        "- conducting a best-practice analysis of “Life Science Test Fields”, which will produce a "
        "situation analysis of the current international status quo,\n"
        "\n"
        "- Exploring financing possibilities or acquiring financial resources,"
    )
    raw_de = (
        "In den vergangenen Jahren wurden mehrere Pro-\n"
        "jekte ausgezeichnet, darunter:\n"
        "\n"
        "\t• 2014 erhielt die SPS die Auszeichnung „Inno-\n"
        "vatives Netzwerk“.\n"
        "\t• 2019 und 2020 erstellte das Netzwerk \n"
        "\n"
        "gemeinsam mit seinen Mitgliedern die Studie."
    )
    assert clean_text(raw_de) == (
        "In den vergangenen Jahren wurden mehrere Projekte ausgezeichnet, darunter:\n"
        "\n"
        "- 2014 erhielt die SPS die Auszeichnung „Innovatives Netzwerk“.\n"
        "- 2019 und 2020 erstellte das Netzwerk gemeinsam mit seinen Mitgliedern die Studie."
    )


def test_markdown_bullets_links_escapes_and_emphasis():
    raw = (
        "Die operativen Ziele lauten wie folgt:\n"
        "\n"
        "- › *Durch Themenschwerpunkte gezielt Kompetenzen ausbauen und auch sichtbar machen*\n"
        "- › *Cross-sektorale Innovationen durch eine verbesserte Infrastruktur erleichtern*\n"
        "\n"
        "- > [Infektion und Hygiene](#)\n"
        "- > [Knochenheilung](#)\n"
        "\n"
        "- > Das Projekt [Hygiene, Infection & Health \\(HIHeal\\)](#) hat das Ziel, ein "
        "clusterübergreifendes Netzwerk zu etablieren.\n"
        "\n"
        "› **Rahmenbedingungen für innovative Produktionstechnologien verschlechtern sich.**\n"
        "\n"
        "2) Die komplette Studie kann unter <https://www.lifesciencenord.de/ueber-uns/das-cluster-in-zahlen/> "
        "eingesehen werden"
    )
    assert clean_text(raw) == (
        "Die operativen Ziele lauten wie folgt:\n"
        "\n"
        "- Durch Themenschwerpunkte gezielt Kompetenzen ausbauen und auch sichtbar machen\n"
        "- Cross-sektorale Innovationen durch eine verbesserte Infrastruktur erleichtern\n"
        "\n"
        "- Infektion und Hygiene\n"
        "- Knochenheilung\n"
        "\n"
        "- Das Projekt Hygiene, Infection & Health (HIHeal) hat das Ziel, ein clusterübergreifendes "
        "Netzwerk zu etablieren.\n"
        "\n"
        "- Rahmenbedingungen für innovative Produktionstechnologien verschlechtern sich.\n"
        "\n"
        "2) Die komplette Studie kann unter https://www.lifesciencenord.de/ueber-uns/das-cluster-in-zahlen/ "
        "eingesehen werden"
    )


def test_broken_markdown_item_is_rejoined():
    # The item's last words sit after an empty "-" marker and a blank line.
    raw = (
        " - > *Erzeugung von Wettbewerbsvorteilen durch die Unterstützung der Clustermitglieder im Umgang*\n"
        "-\n"
        "\n"
        "mit den Umbrüchen der Digitalisierung\n"
        "\n"
        "- › *Unterstützung bei der Bewältigung der wachsenden globalen Anforderungen des regulatorischen "
        "Rahmens („Regulatory Affairs“)*"
    )
    assert clean_text(raw) == (
        "- Erzeugung von Wettbewerbsvorteilen durch die Unterstützung der Clustermitglieder im Umgang "
        "mit den Umbrüchen der Digitalisierung\n"
        "\n"
        "- Unterstützung bei der Bewältigung der wachsenden globalen Anforderungen des regulatorischen "
        "Rahmens („Regulatory Affairs“)"
    )


# --------------------------------------------------------------------------
# Headings
# --------------------------------------------------------------------------


def test_headings_stay_paragraphs_of_their_own():
    raw = (
        "3.2 Das Management von Life Science Nord\n"
        "Im April 2004 wurde gemeinsam von den Ländern Hamburg und Schleswig-Holstein die Nor-\n"
        "genta Norddeutsche Life Science Agentur GmbH gegründet.\n"
        "\n"
        "Silberne Revolution\n"
        "Vor allem in den westlich geprägten Ländern wird sich in den nächsten 30 Jahren der Anteil \n"
        "älterer Mitbürger überproportional erhöhen.\n"
        "\n"
        "Um Life Science Nord weiterzuentwickeln, stehen vier strategische Handlungsfelder im \n"
        "Vordergrund (s. Abb. 6):\n"
        " \n"
        "1. Die inhaltliche Ausrichtung\n"
        "2. Die Verbesserung der Rahmenbedingungen \n"
        "3. Die organisatorische Ausrichtung \n"
        "4. Die Vermarktung\n"
        "\n"
        "DER ÖKONOMISCHE FUßABDRUCK DES CLUSTERS LIFE SCIENCE NORD\n"
        "\n"
        " \n"
        "Zweifelsohne stellt die durch das Cluster LSN repräsentierte Branche einen wichtigen "
        "Industriesektor dar."
    )
    assert clean_text(raw) == (
        "3.2 Das Management von Life Science Nord\n"
        "\n"
        "Im April 2004 wurde gemeinsam von den Ländern Hamburg und Schleswig-Holstein die Norgenta "
        "Norddeutsche Life Science Agentur GmbH gegründet.\n"
        "\n"
        "Silberne Revolution\n"
        "\n"
        "Vor allem in den westlich geprägten Ländern wird sich in den nächsten 30 Jahren der Anteil "
        "älterer Mitbürger überproportional erhöhen.\n"
        "\n"
        "Um Life Science Nord weiterzuentwickeln, stehen vier strategische Handlungsfelder im "
        "Vordergrund (s. Abb. 6):\n"
        "\n"
        "1. Die inhaltliche Ausrichtung\n"
        "2. Die Verbesserung der Rahmenbedingungen\n"
        "3. Die organisatorische Ausrichtung\n"
        "4. Die Vermarktung\n"
        "\n"
        "DER ÖKONOMISCHE FUßABDRUCK DES CLUSTERS LIFE SCIENCE NORD\n"
        "\n"
        "Zweifelsohne stellt die durch das Cluster LSN repräsentierte Branche einen wichtigen "
        "Industriesektor dar."
    )


def test_markdown_headings_are_kept_as_they_are():
    # No corpus file is Markdown with '#' headings; a .md file with them must keep them.
    raw = (
        "# LSN Strategie 2030\n"
        "Gemeinsam den Life-Science-Standort zukunftsfähig gestalten\n"
        "\n"
        "## 1. Sichtbarkeit von LSN erhöhen\n"
        "LSN ist eines der sichtbarsten deutschen und europäischen Life Science Cluster in den relevanten Branchen.\n"
        "\n"
        "## Ausblick\n"
        "mit Blick auf 2030 werden die Ziele regelmäßig überprüft."
    )
    assert clean_text(raw) == (
        "# LSN Strategie 2030\n"
        "\n"
        "Gemeinsam den Life-Science-Standort zukunftsfähig gestalten\n"
        "\n"
        "## 1. Sichtbarkeit von LSN erhöhen\n"
        "\n"
        "LSN ist eines der sichtbarsten deutschen und europäischen Life Science Cluster in den relevanten Branchen.\n"
        "\n"
        "## Ausblick\n"
        "\n"
        "mit Blick auf 2030 werden die Ziele regelmäßig überprüft."
    )


def test_chapter_numbers_glued_to_headings_are_separated():
    raw = (
        "The reinvestment of their incomes will \n"
        "create a further 12,600 jobs in the overall economy of the region.\n"
        "\n"
        "1LIFE SCIENCE NORD  \n"
        "2013 – 2018\n"
        "\n"
        " 2THE EMBEDDING OF  \n"
        "LIFE SCIENCE NORD INTO  \n"
        "THE REGIONAL AND NATIONAL \n"
        "INNOVATION SYSTEM\n"
        "\n"
        "OPERATIONAL \n"
        "GOAL 2FACILITATE CROSS-SECTORAL INNOVATION THROUGH IMPROVED \n"
        "\n"
        "Wie können der \n"
        "CO2-Fußabdruck der Branche verringert werden? Wir sind Expertinnen und Experten für die "
        "Analyse von 3D-Daten."
    )
    assert clean_text(raw) == (
        "The reinvestment of their incomes will create a further 12,600 jobs in the overall economy "
        "of the region.\n"
        "\n"
        "1 LIFE SCIENCE NORD 2013 – 2018\n"
        "\n"
        "2 THE EMBEDDING OF LIFE SCIENCE NORD INTO THE REGIONAL AND NATIONAL INNOVATION SYSTEM\n"
        "\n"
        "OPERATIONAL GOAL 2 FACILITATE CROSS-SECTORAL INNOVATION THROUGH IMPROVED\n"
        "\n"
        "Wie können der CO2-Fußabdruck der Branche verringert werden? Wir sind Expertinnen und "
        "Experten für die Analyse von 3D-Daten."
    )


# --------------------------------------------------------------------------
# Headers, footers, page numbers, credits, alt text, links
# --------------------------------------------------------------------------


def test_running_footer_with_page_number_is_removed_and_the_sentence_rejoined():
    pages = [
        "Prof. Dr. Matthias Zscheile (2. v. l.) und sein Team stärken die Bioökonomie in Sachsen-Anhalt.\n"
        "\n\n\nEXPEDITION CLUSTERINITIATIVE 27\n\n"
        "Wenn man sich dem Technologiepark Weinberg \n"
        "Campus in Halle (Saale) nähert, spürt man, dass es \n"
        "sich um einen besonderen Ort handelt.",
        "Eine kontinuierliche Qualitätskontrolle sichert \n"
        "ab, dass Unterstützung im benötigten Umfang am \n"
        "richtigen Ort ankommt.\n"
        "\n\n\nEXPEDITION CLUSTERINITIATIVE 45\n\n"
        "Mareike Onkelbach – Geschäftsführerin der Chips 4 Light GmbH, Sinzing:",
        "Die Pro-\n"
        "file der Tech-Damen werden seitdem regelmäßig in \n"
        "den Newslettern vorgestellt und kürzlich wurden \n"
        "\n\n\nEXPEDITION CLUSTERINITIATIVE 61\n\n"
        "sie erneut aufgefordert, Filme über sich selbst zu \n"
        "machen und einzuschicken.",
    ]
    assert clean_pages(pages) == [
        "Prof. Dr. Matthias Zscheile (2. v. l.) und sein Team stärken die Bioökonomie in Sachsen-Anhalt.\n"
        "\n"
        "Wenn man sich dem Technologiepark Weinberg Campus in Halle (Saale) nähert, spürt man, dass es "
        "sich um einen besonderen Ort handelt.",
        "Eine kontinuierliche Qualitätskontrolle sichert ab, dass Unterstützung im benötigten Umfang am "
        "richtigen Ort ankommt.\n"
        "\n"
        "Mareike Onkelbach – Geschäftsführerin der Chips 4 Light GmbH, Sinzing:",
        "Die Profile der Tech-Damen werden seitdem regelmäßig in den Newslettern vorgestellt und kürzlich "
        "wurden sie erneut aufgefordert, Filme über sich selbst zu machen und einzuschicken.",
    ]


def test_page_number_glued_to_running_title_is_removed():
    pages = [
        "Abb . 1: Maßgebliche gesell-\nschaftliche Trends für die \nAusrichtung von Life Science \nNord .\n"
        "\n\n\n11Masterplan Life Science Nord\n\n"
        "3 Akteure, Clustermanagement und Kompetenzen \n von Life Science Nord\n\n"
        "3.1 Die Akteure\n"
        "Die Mitglieder von Life Science Nord verfügen über eine lange Tradition und ein großes \n"
        " Renommee.",
        "Life Science Nord\nverknüpft\n\nMedizintechnik, \nBiotechnologie \n\nund Pharma\n"
        "\n\n\n17Masterplan Life Science Nord\n\n"
        "Medizintechnik Medizintechnik",
    ]
    assert clean_pages(pages) == [
        "Abb. 1: Maßgebliche gesellschaftliche Trends für die Ausrichtung von Life Science Nord.\n"
        "\n"
        "3 Akteure, Clustermanagement und Kompetenzen von Life Science Nord\n"
        "\n"
        "3.1 Die Akteure\n"
        "\n"
        "Die Mitglieder von Life Science Nord verfügen über eine lange Tradition und ein großes Renommee.",
        "Life Science Nord verknüpft\n\nMedizintechnik, Biotechnologie und Pharma\n\nMedizintechnik Medizintechnik",
    ]


def test_numbered_lines_that_are_content_stay():
    # Figure labels with numbers a few lines apart, chapter headings "1 ..." / "5 ...",
    # and an enumeration "OPERATIVES ZIEL 1..3" look like running headers but are not.
    raw = (
        "Medizintechnik\n46 % der Funktionen\n\nBiotechnologie\n39 % der Funktionen\n\n"
        "Pharma\n15 % der Funktionen\n\n"
        "1LIFE SCIENCE NORD  \n2013 – 2018\n\n"
        "OPERATIVES ZIEL 1\n\nOPERATIVES ZIEL 2\n\nOPERATIVES ZIEL 3\n\n"
        "5LIFE SCIENCE NORD  \nCLUSTER STRATEGY 2024"
    )
    out = clean_text(raw)
    for kept in (
        "46 % der Funktionen",
        "39 % der Funktionen",
        "15 % der Funktionen",
        "1 LIFE SCIENCE NORD 2013 – 2018",
        "OPERATIVES ZIEL 1",
        "OPERATIVES ZIEL 3",
        "5 LIFE SCIENCE NORD CLUSTER STRATEGY 2024",
    ):
        assert kept in out


def test_copyright_credits_and_lone_page_numbers_are_removed_figure_values_stay():
    raw = (
        "45 nicht eindeutig einer Branche zuzuordnende Akteure, \n"
        "größtenteils Forschung und Servicefunktionen\n"
        "\n"
        "© 2009 Capgemini\n"
        " Onkologie\n"
        "\n"
        "Together, we want to shape \n"
        "the future of the worldwide \n"
        "health care system – from \n"
        "Northern Germany!\n"
        "\n"
        "7\n"
        "\n"
        "1. Chairman LSN e.V.  \n"
        "Dr. Mathias Kraas\n"
        "\n"
        "Gross value added / capital in HH and S-H\n"
        "\n"
        "865\n"
        "\n"
        "Additional gross value added since 2014"
    )
    assert clean_text(raw) == (
        "45 nicht eindeutig einer Branche zuzuordnende Akteure, größtenteils Forschung und "
        "Servicefunktionen\n"
        "\n"
        "Onkologie\n"
        "\n"
        "Together, we want to shape the future of the worldwide health care system – from Northern Germany!\n"
        "\n"
        "1. Chairman LSN e.V. Dr. Mathias Kraas\n"
        "\n"
        "Gross value added / capital in HH and S-H\n"
        "\n"
        "865\n"
        "\n"
        "Additional gross value added since 2014"
    )


def test_generated_image_descriptions_are_removed():
    raw = (
        "Minister\n"
        "Dr. Bernd Buchholz\n"
        "\n"
        "A handwritten signature in blue ink, appearing to read 'Bernd Buchholz'.\n"
        "\n\n\n"
        "Senator\n"
        "Michael Westhagemann\n"
        "\n"
        "A handwritten signature in blue ink, appearing to read 'M. Westhagemann'."
    )
    assert clean_text(raw) == "Minister\n\nDr. Bernd Buchholz\n\nSenator\n\nMichael Westhagemann"


def test_session_ids_are_stripped_from_urls():
    raw = (
        "http://www.go-cluster.de\n"
        "https://www.clusterplattform.de/CLUSTER/Redaktion/DE/Downloads/Publikationen/cluster_reportagen.pdf"
        ";jsessionid=4480E2F19BA4ED55FDEC450A45B01398?__blob=publicationFile&v=11\n"
        "https://www.clusterplattform.de/CLUSTER/Redaktion/DE/Downloads/Publikationen/cluster_reportagen.pdf"
        ";jsessionid=4480E2F19BA4ED55FDEC450A45B01398?__blob=publicationFile&v=11\n"
        "http://www.clusterplattform.de"
    )
    # the repeated link line goes too; the URL itself stays
    assert clean_text(raw) == (
        "http://www.go-cluster.de "
        "https://www.clusterplattform.de/CLUSTER/Redaktion/DE/Downloads/Publikationen/cluster_reportagen.pdf"
        "?__blob=publicationFile&v=11 http://www.clusterplattform.de"
    )
    # query-string session ids (not in the corpus, but the same kind of noise)
    assert clean_text("Mehr unter https://www.example.org/page?sid=8a7f3c&lang=de und https://www.example.org/x?sid=42") == (
        "Mehr unter https://www.example.org/page?lang=de und https://www.example.org/x"
    )


def test_link_annotations_repeating_a_printed_address_are_removed():
    raw = (
        "Optence e. V.\n"
        "\n"
        "Ansprechpartnerin:\n"
        "Daniela Reuter\n"
        "\n"
        "\t +49 6732 964-897\n"
        "\t info@optence.de \n"
        "\t www.optence.de\n"
        "\n"
        "mailto:info@optence.de\n"
        "http://www.optence.de\n"
        " Mit voller Energie den Nordwesten \n"
        "voranbringen"
    )
    assert clean_text(raw) == (
        "Optence e. V.\n"
        "\n"
        "Ansprechpartnerin: Daniela Reuter\n"
        "\n"
        "+49 6732 964-897 info@optence.de www.optence.de\n"
        "\n"
        "Mit voller Energie den Nordwesten voranbringen"
    )


# --------------------------------------------------------------------------
# Spacing
# --------------------------------------------------------------------------


def test_odd_spacing_before_punctuation_is_removed():
    raw = (
        " Life Science Nord ist ein Stand-\n"
        "ort mit einer langen Historie in \n"
        "der Medizintechnik und einer \n"
        "jungen, innovativen Basis in \n"
        "der Biotechnologie . Über 500 \n"
        "Unternehmen sind in Hamburg \n"
        "und Schleswig-Holstein in den \n"
        "Life Sciences vertreten .\n"
        "\n"
        "Life Science Nord wird sich in den kommenden zehn Jahren zu einem der führenden Life-\n"
        "Science -Netzwerke in Europa entwickeln.\n"
        "\n"
        "Dabei decken die Großunternehmen der Medizintechnik wesentliche Bereiche der Wertschöp-\n"
        "fung ab, die pharmazeutischen Unternehmen nur Teilbereiche der Medikamentenentwicklung \n"
        "und -produktion.\n"
        "\n"
        "Life Science Nord Management GmbH\n"
        "Falkenried 88\n"
        "20251 Hamburg\n"
        "Tel.: 040.471 96 -400"
    )
    assert clean_text(raw) == (
        "Life Science Nord ist ein Standort mit einer langen Historie in der Medizintechnik und einer "
        "jungen, innovativen Basis in der Biotechnologie. Über 500 Unternehmen sind in Hamburg und "
        "Schleswig-Holstein in den Life Sciences vertreten.\n"
        "\n"
        "Life Science Nord wird sich in den kommenden zehn Jahren zu einem der führenden "
        "Life-Science-Netzwerke in Europa entwickeln.\n"
        "\n"
        "Dabei decken die Großunternehmen der Medizintechnik wesentliche Bereiche der Wertschöpfung ab, "
        "die pharmazeutischen Unternehmen nur Teilbereiche der Medikamentenentwicklung und -produktion.\n"
        "\n"
        "Life Science Nord Management GmbH Falkenried 88 20251 Hamburg Tel.: 040.471 96 -400"
    )


def test_space_after_hyphen_inside_a_compound_is_removed():
    raw = (
        "So konnten strategische Projekte initiiert werden, die zur Profilierung des Standortes "
        "Hamburg / Schleswig- Holstein beitragen. In the past, LSN’s Cluster Management has already "
        "started to address the topic of “cross- sectoral innovation”, also cross-sectoral projects."
    )
    assert clean_text(raw) == (
        "So konnten strategische Projekte initiiert werden, die zur Profilierung des Standortes "
        "Hamburg / Schleswig-Holstein beitragen. In the past, LSN’s Cluster Management has already "
        "started to address the topic of “cross-sectoral innovation”, also cross-sectoral projects."
    )


# --------------------------------------------------------------------------
# Sentences cut by page breaks, quote boxes and pull quotes
# --------------------------------------------------------------------------


def test_sentence_cut_by_a_quote_box_is_rejoined_and_the_box_follows():
    raw = (
        "Darüber hinaus gibt es fachspezifische Arbeits-\n"
        "gruppen, aktuell fünf. Darunter z. B. eine \n"
        "Standardisierungsgruppe Messtechnik, die aus \n"
        "dem Netzwerk heraus entstanden ist. Hier wird \n"
        "\n"
        "Stimmen aus dem Netzwerk\n"
        "\n"
        "Udo Umhofer\n"
        "\n"
        "CEO der TOPAG \n"
        "\n"
        "Lasertechnik GmbH:\n"
        "\n"
        "„Als überzeugte \n"
        "‚Netzwerker‘ sind wir \n"
        "seit der Gründung von \n"
        "Optence im Jahr 2001 \n"
        "mit dabei. Unser erstes Förderprojekt wurde mit \n"
        "Partnern aus dem Netzwerk realisiert, inzwischen \n"
        "sind wir wie auch Optence breiter aufgestellt und \n"
        "auch international aktiv.“\n"
        " gemeinsam an Normierungen im Bereich Mess-\n"
        "technik gearbeitet, die dem DIN-Ausschuss vor-\n"
        "gelegt werden sollen."
    )
    assert clean_text(raw) == (
        "Darüber hinaus gibt es fachspezifische Arbeitsgruppen, aktuell fünf. Darunter z. B. eine "
        "Standardisierungsgruppe Messtechnik, die aus dem Netzwerk heraus entstanden ist. Hier wird "
        "gemeinsam an Normierungen im Bereich Messtechnik gearbeitet, die dem DIN-Ausschuss vorgelegt "
        "werden sollen.\n"
        "\n"
        "Stimmen aus dem Netzwerk\n"
        "\n"
        "Udo Umhofer\n"
        "\n"
        "CEO der TOPAG\n"
        "\n"
        "Lasertechnik GmbH:\n"
        "\n"
        "„Als überzeugte ‚Netzwerker‘ sind wir seit der Gründung von Optence im Jahr 2001 mit dabei. "
        "Unser erstes Förderprojekt wurde mit Partnern aus dem Netzwerk realisiert, inzwischen sind wir "
        "wie auch Optence breiter aufgestellt und auch international aktiv.“"
    )


def test_sentence_cut_by_a_page_break_is_rejoined():
    raw = (
        "Die 110 Mit-\n"
        "glieder bilden die komplette Prozesskette der Opti-\n"
        "schen Technologien ab. 70 Prozent der Mitglieder \n"
        "sind kleine und mittlere Unternehmen (KMU), \n"
        "\n"
        "11 Prozent Großindustrie, weitere 11 Prozent dem \n"
        "Bereich Forschung und Entwicklung (FuE) zuzu-\n"
        "rechnen und der Rest entfällt auf sonstige Akteure.\n"
        "\n"
        "Diese wurden \n"
        "zu nennenswerten Anteilen durch das Land und \n"
        "das Bundesbeschaffungsamt zweckgebunden ver-\n"
        " BioEconomy Cluster\n"
        " teilt, um den Bedarf an Desinfektionsmitteln für \n"
        "systemrelevante Bereiche wie Krankenhäuser zu decken."
    )
    assert clean_text(raw) == (
        "Die 110 Mitglieder bilden die komplette Prozesskette der Optischen Technologien ab. 70 Prozent "
        "der Mitglieder sind kleine und mittlere Unternehmen (KMU), 11 Prozent Großindustrie, weitere "
        "11 Prozent dem Bereich Forschung und Entwicklung (FuE) zuzurechnen und der Rest entfällt auf "
        "sonstige Akteure.\n"
        "\n"
        "Diese wurden zu nennenswerten Anteilen durch das Land und das Bundesbeschaffungsamt "
        "zweckgebunden verteilt, um den Bedarf an Desinfektionsmitteln für systemrelevante Bereiche wie "
        "Krankenhäuser zu decken.\n"
        "\n"
        "BioEconomy Cluster"
    )


def test_pull_quote_inside_a_sentence_is_moved_behind_it():
    raw = (
        "wir wollen gemeinsam die weltweite Gesundheitsversorgung zukunftsgerichtet gestalten – aus "
        "Norddeutschland heraus! Mit dieser neu formulierten Vision positioniert sich das Cluster Life "
        "Science Nord (LSN) zukünftig noch aktiver als führendes Life-Science-Cluster in Europa.\n"
        "\n"
        "LSN agiert hierbei nicht allein. Die vertiefende Zusammenarbeit zwischen\n"
        "\n"
        "Wir wollen gemeinsam die weltweite Gesundheitsversorgung zukunftsgerichtet gestalten – aus "
        "Norddeutschland heraus!\n"
        "\n"
        "LSN und entsprechenden Initiativen der Gesundheitswirtschaft könnte beispielhaften Charakter haben."
    )
    assert clean_text(raw) == (
        "wir wollen gemeinsam die weltweite Gesundheitsversorgung zukunftsgerichtet gestalten – aus "
        "Norddeutschland heraus! Mit dieser neu formulierten Vision positioniert sich das Cluster Life "
        "Science Nord (LSN) zukünftig noch aktiver als führendes Life-Science-Cluster in Europa.\n"
        "\n"
        "LSN agiert hierbei nicht allein. Die vertiefende Zusammenarbeit zwischen LSN und entsprechenden "
        "Initiativen der Gesundheitswirtschaft könnte beispielhaften Charakter haben.\n"
        "\n"
        "Wir wollen gemeinsam die weltweite Gesundheitsversorgung zukunftsgerichtet gestalten – aus "
        "Norddeutschland heraus!"
    )


# --------------------------------------------------------------------------
# API and format
# --------------------------------------------------------------------------


def test_clean_text_is_clean_pages_of_one_page():
    raw = "Nor-\ngenta\n\n\n\nLife Science Nord ."
    assert clean_text(raw) == clean_pages([raw])[0] == "Norgenta\n\nLife Science Nord."
    assert clean_pages([]) == []
    assert clean_pages(["", "  \n \n"]) == ["", ""]


@pytest.mark.parametrize("doc", DOCS)
def test_output_format(cleaned, doc):
    _, out = cleaned[doc]
    assert "\n\n\n" not in out
    assert out == out.strip()
    for para in out.split("\n\n"):
        lines = para.split("\n")
        assert all(line.strip() == line and line for line in lines), para[:80]
        assert "  " not in para, para[:80]
        if len(lines) > 1:  # only lists keep line breaks inside a paragraph
            assert all(line.startswith("- ") or re.match(r"\d{1,2}[.)] ", line) for line in lines), para[:80]
    for glyph in ("\ufffd", "\u0105 ", "\u2009", "\u00a0", "\t", "](#)", "jsessionid", "■"):
        assert glyph not in out
    assert not re.search(r"(?m)^t ", out)  # no masterplan bullet letters left


# --------------------------------------------------------------------------
# Whole corpus: gold quotes, amount removed, idempotence, speed
# --------------------------------------------------------------------------


def _evidence() -> list[tuple[str, str, str]]:
    out = []
    for path in sorted(TESTSETS.glob("*/*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                q = json.loads(line)
                for ev in q["evidence"]:
                    out.append((q["id"], ev["doc"], ev["quote"]))
    return out


EVIDENCE = _evidence()


def test_the_dev_sets_have_evidence():
    assert len(EVIDENCE) >= 50


@pytest.mark.parametrize(("qid", "doc", "quote"), EVIDENCE, ids=[f"{q}:{i}" for i, (q, _, _) in enumerate(EVIDENCE)])
def test_gold_quote_survives_cleaning(cleaned, qid, doc, quote):
    _, out = cleaned[doc]
    assert fold(quote) in fold(out), f"{qid}: {quote!r}"
    assert fold_strict(quote) in fold_strict(out), f"{qid}: {quote!r}"


@pytest.mark.parametrize("doc", DOCS)
def test_cleaning_removes_little(cleaned, doc):
    raw, out = cleaned[doc]
    # measured: go-cluster 0.993, masterplan 0.996, strategy DE 0.998, EN 1.000, 2030 1.000
    assert len(fold(out)) >= 0.98 * len(fold(raw))


@pytest.mark.parametrize("doc", DOCS)
def test_cleaning_is_idempotent(cleaned, doc):
    _, out = cleaned[doc]
    assert clean_text(out) == out


def test_running_headers_of_the_corpus_are_gone(cleaned):
    _, go = cleaned["go-cluster-expedition-clusterinitiative-2-de.txt"]
    _, mp = cleaned["lsn-masterplan-2009-de.txt"]
    raw_mp, _ = cleaned["lsn-masterplan-2009-de.txt"]
    assert raw_mp.count("Masterplan Life Science Nord") == 2 and raw_mp.count("© 2009 Capgemini") == 4
    assert "EXPEDITION CLUSTERINITIATIVE" not in go
    assert "Masterplan Life Science Nord" not in mp and "© 2009 Capgemini" not in mp
    assert "kürzlich wurden sie erneut aufgefordert" in go


# --------------------------------------------------------------------------
# The rules table and the source profiles
# --------------------------------------------------------------------------


def test_rules_are_named_once_and_the_recipe_names_them_in_order():
    names = [r.name for r in LINE_RULES] + [r.name for r in NOISE_RULES]
    assert len(names) == len(set(names))
    assert recipe() == ",".join(names)
    assert recipe(["wingdings-t-bullets"]) == recipe() + ",wingdings-t-bullets"
    with pytest.raises(ValueError, match="unknown cleaning profile 'wingdings'.*known: symbol-font-bullets, wingdings-t-bullets"):
        recipe(["wingdings"])


def test_a_source_quirk_applies_only_to_a_document_that_opts_in():
    """A line starting "t " is a Wingdings bullet in the masterplan's
    extraction, and text anywhere else ("t Tonnen" in a table, a quoted
    letter); "ą" likewise is a bullet only in the English strategy's."""
    raw = "Handlungsempfehlungen\nt Vermarktung des Clusters;\nt Verbesserung der Rahmenbedingungen;"
    assert "- Vermarktung" in clean_text(raw, MASTERPLAN_QUIRKS)
    assert "- Vermarktung" not in clean_text(raw) and "t Vermarktung" in clean_text(raw)
    raw_en = "PLANNED MEASURES\n \u0105 Exploring financing possibilities,"
    assert "- Exploring" in clean_text(raw_en, STRATEGY_EN_QUIRKS)
    assert "- Exploring" not in clean_text(raw_en)
    # a profile never touches what is no bullet: "t" before a number stays
    assert clean_text("t 3,5 Mio. Tonnen", MASTERPLAN_QUIRKS) == "t 3,5 Mio. Tonnen"


def test_the_corpus_manifest_names_known_profiles_only():
    manifest = read_manifest(CORPUS)
    used = {p for entry in manifest.entries.values() for p in entry.get("clean", [])}
    assert used and used <= set(PROFILES)
