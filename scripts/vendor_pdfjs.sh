#!/usr/bin/env bash
# Vendor pdf.js (npm's pdfjs-dist) into ui/static/viewer/pdfjs/: the PDF page
# viewer behind a citation loads it from this server, never from a CDN.
# Run it to move to another version; the files it copies are committed.
#
#   scripts/vendor_pdfjs.sh [VERSION]
set -euo pipefail
VERSION="${1:-6.5.438}"
HERE="$(cd "$(dirname "$0")/.." && pwd)"
DEST="$HERE/ui/static/viewer/pdfjs"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT

(cd "$WORK" && npm pack --silent "pdfjs-dist@$VERSION" >/dev/null && tar xzf pdfjs-dist-*.tgz)
PKG="$WORK/package"
rm -rf "$DEST"
mkdir -p "$DEST"
# the library and its worker; the viewer's stylesheet (the text layer's rules);
# the data pdf.js asks for by URL: standard fonts (PDFs that do not embed
# Helvetica, Times, ...), the image decoders (JPEG 2000, JBIG2) and colour profiles
cp "$PKG/build/pdf.min.mjs" "$PKG/build/pdf.worker.min.mjs" "$PKG/web/pdf_viewer.css" "$PKG/LICENSE" "$DEST/"
cp -r "$PKG/standard_fonts" "$PKG/wasm" "$PKG/iccs" "$DEST/"
echo "$VERSION" > "$DEST/VERSION"
echo "pdfjs-dist $VERSION -> $DEST ($(du -sh "$DEST" | cut -f1))"
