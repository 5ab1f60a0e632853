"""Split the written test questions into eval/testsets/train/ and check/.

    .venv/bin/python scripts/split_testsets.py [--check-share 0.45]

Reads every question of eval/testsets/train/*.jsonl, eval/testsets/check/*.jsonl
and, when present, the newly written ones in eval/testsets/new/*.jsonl, and
writes them back split by *document section* (the ``section`` field), never
question by question, so that two near-duplicate questions about one passage
cannot land on both sides:

- the dev questions (``dev-*.jsonl``, tuned on since the first release) stay in
  train whole;
- sections are joined into groups where questions of two sections share an
  evidence passage (one folded quote overlaps the other by 40 characters) or
  most of their key facts: near-duplicates from two writers stay together;
  a group related in that way to a dev question stays in train with it;
- per file of written questions (one file per part of the corpus), whole
  groups go to check until it holds ``--check-share`` of that file's
  questions, in an order fixed by a hash of the group's labels: a
  deterministic, reproducible draw that does not depend on what the questions
  ask or how the assistant does on them.

A file ``NAME.jsonl`` becomes ``train/NAME.jsonl`` and ``check/NAME.jsonl``;
eval/testsets/new/ is emptied. Running it again gives the same split.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SETS = ROOT / "eval" / "testsets"


def read(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def write(path: Path, items: list[dict]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(i, ensure_ascii=False) + "\n" for i in items), encoding="utf-8")


def draw_order(label: str) -> str:
    return hashlib.sha256(label.encode("utf-8")).hexdigest()


def fold(text: str) -> str:
    return re.sub(r"[^0-9a-zäöüß]+", "", text.lower())


SHARED_CHARS = 40  # folded characters two quotes share to count as one passage


def related(a: dict, b: dict) -> bool:
    """Two questions about the same passage or the same facts."""
    for da, qa in ((e["doc"], fold(e["quote"])) for e in a.get("evidence") or []):
        for db, qb in ((e["doc"], fold(e["quote"])) for e in b.get("evidence") or []):
            if da != db:
                continue
            short, long_ = sorted((qa, qb), key=len)
            if short in long_ or any(short[i:i + SHARED_CHARS] in long_ for i in range(0, max(1, len(short) - SHARED_CHARS + 1), 8)):
                return True
    fa, fb = {fold(f) for f in a.get("key_facts") or []}, {fold(f) for f in b.get("key_facts") or []}
    return len(fa & fb) >= 2 and len(fa & fb) >= 0.5 * min(len(fa), len(fb))


def section_groups(items: list[dict]) -> dict[str, str]:
    """Each section label -> its group's name (the sorted labels joined):
    sections whose questions are related form one group (union-find)."""
    parent: dict[str, str] = {}

    def find(x: str) -> str:
        while parent.setdefault(x, x) != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for i in items:
        find(i.get("section") or "")
    for n, a in enumerate(items):
        for b in items[n + 1:]:
            sa, sb = a.get("section") or "", b.get("section") or ""
            if find(sa) != find(sb) and related(a, b):
                parent[find(sa)] = find(sb)
    members: dict[str, list[str]] = {}
    for label in parent:
        members.setdefault(find(label), []).append(label)
    return {label: " + ".join(sorted(members[find(label)])) for label in parent}


def check_sections(items: list[dict], target: float) -> set[str]:
    """Whole sections of ``items``, in hash order, until check holds about ``target`` questions."""
    sizes: dict[str, int] = {}
    for i in items:
        sizes[i.get("section") or ""] = sizes.get(i.get("section") or "", 0) + 1
    taken, chosen = 0, set()
    for label in sorted(sizes, key=draw_order):
        if taken >= target:
            break
        # take a section when it brings check closer to the target
        if abs(target - (taken + sizes[label])) <= abs(target - taken):
            chosen.add(label)
            taken += sizes[label]
    return chosen


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check-share", type=float, default=0.45, help="share of each written file held back in check")
    parser.add_argument("--sets", type=Path, default=SETS, help="the test-set folder (default: eval/testsets)")
    args = parser.parse_args(argv)
    sets = args.sets

    files: dict[str, list[dict]] = {}
    for folder in ("train", "check", "new"):
        for path in sorted((sets / folder).glob("*.jsonl")):
            files.setdefault(path.stem, []).extend(read(path))
    unlabelled = [i["id"] for name, items in files.items() if not name.startswith("dev-") for i in items if not i.get("section")]
    if unlabelled:
        print(f"questions without a section (needed for the split): {', '.join(unlabelled)}", file=sys.stderr)
        return 1
    written = [dict(i, section=i.get("section") or "") for name, items in files.items() if not name.startswith("dev-") for i in items]
    group = section_groups(written)
    for name, items in files.items():
        if not name.startswith("dev-"):
            files[name] = [dict(i, group=group[i.get("section") or ""]) for i in items]
    # a group that two files share goes where its first file puts it
    owner: dict[str, str] = {}
    for name, items in files.items():
        for i in items:
            if "group" in i:
                owner.setdefault(i["group"], name)
    dev = [i for name, items in files.items() if name.startswith("dev-") for i in items]
    near_dev = {i["group"] for name, items in files.items() if not name.startswith("dev-") for i in items
                if any(related(i, d) for d in dev)}
    split: dict[str, set[str]] = {}
    for name, items in files.items():
        if name.startswith("dev-"):
            continue
        mine = [dict(i, section=i["group"]) for i in items if owner[i["group"]] == name and i["group"] not in near_dev]
        split[name] = check_sections(mine, args.check_share * len(items))
    held = set().union(*split.values()) if split else set()

    for folder in ("train", "check", "new"):
        for path in (sets / folder).glob("*.jsonl"):
            path.unlink()
    counts = {"train": 0, "check": 0}
    for name, items in files.items():
        if name.startswith("dev-"):
            write(sets / "train" / f"{name}.jsonl", items)
            counts["train"] += len(items)
            continue
        check = [{k: v for k, v in i.items() if k != "group"} for i in items if i["group"] in held]
        train = [{k: v for k, v in i.items() if k != "group"} for i in items if i["group"] not in held]
        for folder, part in (("train", train), ("check", check)):
            if part:
                write(sets / folder / f"{name}.jsonl", part)
                counts[folder] += len(part)
        print(f"{name}: {len(train)} train, {len(check)} check; check sections: {', '.join(sorted(split.get(name, ())))}")
    print(f"kept in train beside dev questions: {', '.join(sorted(near_dev)) or 'none'}")
    print(f"train {counts['train']}, check {counts['check']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
