// The page of a PDF behind a citation, with the quoted sentences highlighted.
//
// index.html?doc=<file>&page=<n>&q=<quote>[&q=…]&lang=de|en: the file comes
// from GET ../api/documents/<file>/file (indexed documents only), pdf.js and
// the data it asks for from ./pdfjs/ (this server; nothing from a CDN). The
// page is drawn on a canvas; pdf.js's text layer lies over it, and the quotes
// are found in that layer's text and painted. The quotes are the index's
// cleaned text (hyphenation undone, spaces mended, bullets dropped), so both
// sides are compared as letters and digits only; a quote that still cannot
// be found (a scanned page, text drawn as curves) is said so, the page shown.

import * as pdfjs from "./pdfjs/pdf.min.mjs";

pdfjs.GlobalWorkerOptions.workerSrc = new URL("./pdfjs/pdf.worker.min.mjs", import.meta.url).href;

const WORDS = {
  en: {
    where: (n, total) => `Page ${n} of ${total}`,
    found: (k) => (k === 1 ? "The quote is highlighted." : `The ${k} quotes are highlighted.`),
    notFound: "The quote cannot be located in this page's text layer (a scanned page?): read it on the page.",
    partly: (k, total) => `${k} of ${total} quotes are highlighted; the others cannot be located in the text layer.`,
    noQuote: "",
    missing: "The original file is not available: the document is no longer in the index, or only the index knows it.",
    failed: (e) => `The PDF cannot be shown (${e}).`,
    noDoc: "No document named.",
    file: "Whole PDF ↗",
    prev: "Previous page",
    next: "Next page",
  },
  de: {
    where: (n, total) => `Seite ${n} von ${total}`,
    found: (k) => (k === 1 ? "Das Zitat ist markiert." : `Die ${k} Zitate sind markiert.`),
    notFound: "Das Zitat ist in der Textebene dieser Seite nicht zu finden (eine gescannte Seite?): Bitte auf der Seite lesen.",
    partly: (k, total) => `${k} von ${total} Zitaten sind markiert; die anderen sind in der Textebene nicht zu finden.`,
    noQuote: "",
    missing: "Die Originaldatei ist nicht verfügbar: Das Dokument ist nicht mehr im Index, oder nur der Index kennt es.",
    failed: (e) => `Die PDF kann nicht angezeigt werden (${e}).`,
    noDoc: "Kein Dokument angegeben.",
    file: "Ganze PDF ↗",
    prev: "Vorige Seite",
    next: "Nächste Seite",
  },
};

const params = new URLSearchParams(location.search);
const doc = params.get("doc") || "";
const quotes = params.getAll("q").filter((q) => q.trim());
const lang = params.get("lang") === "de" ? "de" : "en";
const words = WORDS[lang];
let pageNumber = Math.max(1, parseInt(params.get("page") || "1", 10) || 1);

const $ = (id) => document.getElementById(id);
const status = $("lsn-viewer-status");
const canvas = $("lsn-viewer-canvas");
const textLayerDiv = $("lsn-viewer-text");
const pageDiv = $("lsn-viewer-page");
document.documentElement.lang = lang;

function say(message, problem = false) {
  status.textContent = message;
  status.classList.toggle("lsn-problem", problem);
}

// ---- finding a quote in the text layer

const KEEP = /[\p{L}\p{N}]/u;

// The letters and digits of ``s``, lower-cased, each with the span of the
// original string it came from (a ligature "ﬁ" gives two letters, one span).
function folded(s) {
  const out = [];
  for (let k = 0; k < s.length; ) {
    const ch = String.fromCodePoint(s.codePointAt(k));
    for (const c of ch.normalize("NFKC").toLowerCase()) {
      if (KEEP.test(c)) out.push({ c, from: k, to: k + ch.length });
    }
    k += ch.length;
  }
  return out;
}

// Where ``needle`` (folded) stands in ``hay`` (folded, joined): verbatim, else
// from its first to its last words when both are there in order and not much
// farther apart than the quote is long (a quote the cleaning changed inside).
function locate(hay, needle) {
  if (!needle) return null;
  const at = hay.indexOf(needle);
  if (at >= 0) return [at, at + needle.length];
  const edge = Math.min(24, Math.floor(needle.length / 3));
  if (edge < 8) return null;
  const start = hay.indexOf(needle.slice(0, edge));
  if (start < 0) return null;
  const tail = needle.slice(-edge);
  const end = hay.indexOf(tail, start + edge);
  if (end < 0 || end + edge - start > needle.length * 1.5) return null;
  return [start, end + edge];
}

// Paint the quotes in the text layer; returns how many were found.
function highlight(textDivs, strings) {
  const chars = [];
  strings.forEach((s, item) => {
    for (const f of folded(s)) chars.push({ ...f, item });
  });
  const hay = chars.map((f) => f.c).join("");
  const spans = new Map(); // item -> [[from, to], …]
  let found = 0;
  for (const quote of quotes) {
    const range = locate(hay, folded(quote).map((f) => f.c).join(""));
    if (!range) continue;
    found += 1;
    // per item, from the quote's first letter in it to its last: the spaces
    // and punctuation between them are the quote's too
    const items = new Map();
    for (let i = range[0]; i < range[1]; i++) {
      const { item, from, to } = chars[i];
      const span = items.get(item);
      items.set(item, span ? [span[0], Math.max(span[1], to)] : [from, to]);
    }
    const lastItem = chars[range[1] - 1].item;
    const end = items.get(lastItem);
    while (end[1] < strings[lastItem].length && /\p{P}/u.test(strings[lastItem][end[1]])) end[1] += 1;
    for (const [item, span] of items) spans.set(item, [...(spans.get(item) || []), span]);
  }
  for (const [item, list] of spans) {
    list.sort((a, b) => a[0] - b[0]);
    const merged = [];
    for (const span of list) {
      const last = merged[merged.length - 1];
      if (last && span[0] <= last[1]) last[1] = Math.max(last[1], span[1]);
      else merged.push([...span]);
    }
    const div = textDivs[item];
    const s = strings[item];
    const parts = [];
    let at = 0;
    for (const [from, to] of merged) {
      parts.push(s.slice(at, from));
      const mark = document.createElement("span");
      mark.className = "lsn-hit";
      mark.textContent = s.slice(from, to);
      parts.push(mark);
      at = to;
    }
    parts.push(s.slice(at));
    div.replaceChildren(...parts);
  }
  return found;
}

// ---- rendering

let pdf = null;
let rendering = null; // the render task under way, cancelled by a newer one
let generation = 0;

async function show(n) {
  if (!pdf) return;
  const mine = ++generation;
  pageNumber = Math.min(Math.max(1, n), pdf.numPages);
  $("lsn-viewer-where").textContent = words.where(pageNumber, pdf.numPages);
  $("lsn-viewer-prev").disabled = pageNumber <= 1;
  $("lsn-viewer-next").disabled = pageNumber >= pdf.numPages;
  document.title = `${doc} — ${words.where(pageNumber, pdf.numPages)}`;

  const page = await pdf.getPage(pageNumber);
  if (mine !== generation) return;
  const room = Math.max(320, Math.min($("lsn-viewer-main").clientWidth - 32, 1100));
  const scale = room / page.getViewport({ scale: 1 }).width;
  const viewport = page.getViewport({ scale });
  const ratio = window.devicePixelRatio || 1;
  canvas.width = Math.floor(viewport.width * ratio);
  canvas.height = Math.floor(viewport.height * ratio);
  canvas.style.width = `${Math.floor(viewport.width)}px`;
  canvas.style.height = `${Math.floor(viewport.height)}px`;
  // the text layer sizes itself from these (pdf_viewer.css)
  pageDiv.style.setProperty("--scale-factor", String(scale));
  pageDiv.style.setProperty("--total-scale-factor", String(scale));
  pageDiv.style.setProperty("--scale-round-x", "1px");
  pageDiv.style.setProperty("--scale-round-y", "1px");

  rendering?.cancel();
  rendering = page.render({ canvas, viewport, transform: ratio === 1 ? null : [ratio, 0, 0, ratio, 0, 0] });
  try {
    await rendering.promise;
  } catch (err) {
    if (err instanceof pdfjs.RenderingCancelledException) return;
    throw err;
  }
  if (mine !== generation) return;

  textLayerDiv.replaceChildren();
  const layer = new pdfjs.TextLayer({ textContentSource: page.streamTextContent(), container: textLayerDiv, viewport });
  await layer.render();
  if (mine !== generation) return;
  const found = highlight(layer.textDivs, layer.textContentItemsStr);
  pageDiv.dataset.page = String(pageNumber); // rendered: the tests wait for it
  if (!quotes.length) say(words.noQuote);
  else if (found === quotes.length) say(words.found(found));
  else if (found) say(words.partly(found, quotes.length));
  else say(words.notFound);
  textLayerDiv.querySelector(".lsn-hit")?.scrollIntoView({ block: "center" });
}

async function open() {
  $("lsn-viewer-doc").textContent = doc;
  $("lsn-viewer-prev").title = words.prev;
  $("lsn-viewer-next").title = words.next;
  if (!doc) {
    say(words.noDoc, true);
    return;
  }
  const file = new URL(`../api/documents/${encodeURIComponent(doc)}/file`, location.href);
  const link = $("lsn-viewer-file");
  link.href = file.href;
  link.textContent = words.file;
  const here = new URL("./pdfjs/", import.meta.url);
  try {
    pdf = await pdfjs.getDocument({
      url: file.href,
      standardFontDataUrl: new URL("standard_fonts/", here).href,
      wasmUrl: new URL("wasm/", here).href,
      iccUrl: new URL("iccs/", here).href,
      isEvalSupported: false,
    }).promise;
  } catch (err) {
    say(err?.status === 404 ? words.missing : words.failed(err?.message || err), true);
    return;
  }
  await show(pageNumber);
}

$("lsn-viewer-prev").addEventListener("click", () => show(pageNumber - 1));
$("lsn-viewer-next").addEventListener("click", () => show(pageNumber + 1));
let resized = null;
window.addEventListener("resize", () => {
  clearTimeout(resized);
  resized = setTimeout(() => show(pageNumber), 200);
});

open().catch((err) => say(words.failed(err?.message || err), true));
