#!/usr/bin/env python3
"""extract_seeds.py - cut the driver and app listings out of the seed documents.

The seed documents (../shared/seeds/NNN_*.txt, Chinese blog posts and book chapters) hold
the listings iosim must build unchanged. A manifest (tests/seeds/manifest.json) names
each listing and says how to find it; this script writes each one, byte for byte as the
document has it, to an output folder as a source file.

Finding a listing ("find" in the manifest):
    "after": ["text", ...]   anchors searched for in order, each after the previous one;
                             the listing is a fenced (```) block after the last anchor
    "block": N               the N-th fenced block after the anchors (default 1)
    "first_line": "text"     instead of (or with) "block": the first block whose first
                             non-blank code line contains this text
    "expect": ["text", ...]  (on the listing) strings the extracted source must contain;
                             a guard against picking the wrong block

Repairs ("repairs" on a listing): the only changes ever made to a listing, each an
explicit, named operation undoing damage done by page layout, with a "why". Each one
that is applied is printed. There are exactly two kinds:

    join_continuation_block  A page break split the listing over two fenced blocks: append
                             the next fenced block. Optional "expect_first_line": what the
                             continuation's first non-blank line must be. Optional
                             "drop_stray_line" with "stray_at": a line (e.g. "}") that the
                             layout left behind, dropped at "continuation_start" (the first
                             non-blank line of the continuation) or "listing_end" (the last
                             non-blank line before the continuation).
    rejoin_split_comment     A // comment was wrapped onto the next line: join that line
                             back. "line_ends_with": how the broken comment line ends
                             (trailing blanks ignored); "continuation": the whole text of
                             the wrapped line (leading/trailing blanks ignored). It must
                             match exactly one place.

Nothing else changes: no include is added, nothing is renamed or reformatted.

Anything unexpected - a seed file or anchor not found, too few blocks, a repair that does
not match, a missing "expect" string - is an error naming the listing: the script prints
it and exits with status 1. Python 3 standard library only.

Usage: extract_seeds.py --manifest tests/seeds/manifest.json --seeds ../shared/seeds --out DIR
"""

import argparse
import json
import os
import sys

FENCE = "```"


class ExtractError(Exception):
    pass


class Block:
    """One fenced block: its code lines and the 1-based seed line numbers of its fences."""

    def __init__(self, open_line, lines, first_code_line):
        self.open_line = open_line  # line number of the opening fence
        self.lines = lines  # code lines, without newlines
        self.first_code_line = first_code_line  # line number of lines[0]

    def first_nonblank(self):
        for i, line in enumerate(self.lines):
            if line.strip():
                return i
        return None


def parse_blocks(lines):
    """All fenced blocks of a document, in order. A fence is a line starting with ```."""
    blocks = []
    i = 0
    while i < len(lines):
        if lines[i].startswith(FENCE):
            start = i
            j = i + 1
            while j < len(lines) and not lines[j].startswith(FENCE):
                j += 1
            if j >= len(lines):
                raise ExtractError("unterminated ``` block opened at line %d" % (start + 1))
            blocks.append(Block(start + 1, lines[start + 1 : j], start + 2))
            i = j + 1
        else:
            i += 1
    return blocks


def find_seed(seeds_dir, prefix):
    names = sorted(n for n in os.listdir(seeds_dir) if n.startswith(prefix))
    if len(names) != 1:
        raise ExtractError(
            "seed prefix %r matches %s in %s" % (prefix, ("no file" if not names else ", ".join(names)), seeds_dir)
        )
    return os.path.join(seeds_dir, names[0])


def locate(listing, lines, blocks):
    """Index (into blocks) of the block the listing's "find" names."""
    find = listing.get("find", {})
    position = 0  # 0-based line index the search starts at
    for anchor in find.get("after", []):
        for k in range(position, len(lines)):
            if anchor in lines[k]:
                position = k + 1
                break
        else:
            raise ExtractError("anchor %r not found (searched from line %d)" % (anchor, position + 1))
    # Blocks whose opening fence comes after the last anchor (fence lines are 1-based).
    candidates = [b for b, block in enumerate(blocks) if block.open_line > position]
    if "first_line" in find:
        wanted = find["first_line"]
        matches = []
        for b in candidates:
            k = blocks[b].first_nonblank()
            if k is not None and wanted in blocks[b].lines[k]:
                matches.append(b)
        if not matches:
            raise ExtractError("no fenced block whose first code line contains %r" % wanted)
        if "after" not in find and len(matches) > 1:
            raise ExtractError(
                "%d fenced blocks start with %r (lines %s): add an anchor"
                % (len(matches), wanted, ", ".join(str(blocks[m].open_line) for m in matches))
            )
        n = find.get("block", 1)
        if n > len(matches):
            raise ExtractError("only %d fenced block(s) start with %r, wanted the %d-th" % (len(matches), wanted, n))
        return matches[n - 1]
    n = find.get("block", 1)
    if n < 1 or n > len(candidates):
        raise ExtractError("wanted fenced block %d after the anchors, found %d" % (n, len(candidates)))
    return candidates[n - 1]


def repair_join(repair, text_lines, origin, blocks, last_block):
    """join_continuation_block: returns the new last block index."""
    nxt = last_block + 1
    if nxt >= len(blocks):
        raise ExtractError("join_continuation_block: no fenced block after the one at line %d" % blocks[last_block].open_line)
    cont = blocks[nxt]
    cont_lines = list(cont.lines)
    cont_origin = [cont.first_code_line + i for i in range(len(cont_lines))]
    k = cont.first_nonblank()
    if k is None:
        raise ExtractError("join_continuation_block: the block at line %d is empty" % cont.open_line)
    expect = repair.get("expect_first_line")
    if expect is not None and cont_lines[k].strip() != expect:
        raise ExtractError(
            "join_continuation_block: the block at line %d starts with %r, expected %r"
            % (cont.open_line, cont_lines[k].strip(), expect)
        )
    notes = []
    stray = repair.get("drop_stray_line")
    if stray is not None:
        where = repair.get("stray_at")
        if where == "continuation_start":
            if cont_lines[k].strip() != stray:
                raise ExtractError(
                    "join_continuation_block: expected the stray %r at the start of the block at line %d, found %r"
                    % (stray, cont.open_line, cont_lines[k].strip())
                )
            notes.append("dropped the stray %r at seed line %d" % (stray, cont_origin[k]))
            del cont_lines[k]
            del cont_origin[k]
        elif where == "listing_end":
            last = None
            for i in range(len(text_lines) - 1, -1, -1):
                if text_lines[i].strip():
                    last = i
                    break
            if last is None or text_lines[last].strip() != stray:
                raise ExtractError(
                    "join_continuation_block: expected the stray %r as the last line before the block at line %d, found %r"
                    % (stray, cont.open_line, None if last is None else text_lines[last].strip())
                )
            notes.append("dropped the stray %r at seed line %d" % (stray, origin[last]))
            del text_lines[last]
            del origin[last]
        else:
            raise ExtractError("join_continuation_block: stray_at must be continuation_start or listing_end, not %r" % where)
    text_lines.extend(cont_lines)
    origin.extend(cont_origin)
    notes.insert(0, "joined the continuation block at seed line %d" % cont.open_line)
    return nxt, "; ".join(notes)


def repair_comment(repair, text_lines, origin):
    ends = repair["line_ends_with"]
    cont = repair["continuation"]
    hits = [
        i
        for i in range(len(text_lines) - 1)
        if "//" in text_lines[i] and text_lines[i].rstrip().endswith(ends) and text_lines[i + 1].strip() == cont
    ]
    if len(hits) != 1:
        raise ExtractError(
            "rejoin_split_comment: %d places where a // comment ends with %r and the next line is %r (expected 1)"
            % (len(hits), ends, cont)
        )
    i = hits[0]
    text_lines[i] = text_lines[i].rstrip() + cont
    note = "joined %r (seed line %d) back onto the // comment of seed line %d" % (cont, origin[i + 1], origin[i])
    del text_lines[i + 1]
    del origin[i + 1]
    return note


def extract(listing, seeds_dir):
    """Returns (source text, [repair notes])."""
    path = find_seed(seeds_dir, listing["seed"])
    with open(path, encoding="utf-8") as f:
        lines = f.read().split("\n")
    blocks = parse_blocks(lines)
    b = locate(listing, lines, blocks)
    text_lines = list(blocks[b].lines)
    origin = [blocks[b].first_code_line + i for i in range(len(text_lines))]
    notes = ["%s, fenced block at line %d" % (os.path.basename(path), blocks[b].open_line)]
    applied = []
    for repair in listing.get("repairs", []):
        if not repair.get("why"):
            raise ExtractError("repair %r has no 'why'" % repair.get("op"))
        op = repair.get("op")
        if op == "join_continuation_block":
            b, note = repair_join(repair, text_lines, origin, blocks, b)
        elif op == "rejoin_split_comment":
            note = repair_comment(repair, text_lines, origin)
        else:
            raise ExtractError("unknown repair %r (known: join_continuation_block, rejoin_split_comment)" % op)
        applied.append("repair %s: %s (why: %s)" % (op, note, repair["why"]))
    text = "\n".join(text_lines).rstrip("\n") + "\n"
    for wanted in listing.get("expect", []):
        if wanted not in text:
            raise ExtractError("the extracted listing does not contain %r: wrong block?" % wanted)
    return text, notes, applied


def write_if_changed(path, text):
    data = text.encode("utf-8")
    try:
        with open(path, "rb") as f:
            if f.read() == data:
                return False
    except FileNotFoundError:
        pass
    with open(path, "wb") as f:
        f.write(data)
    return True


def main():
    parser = argparse.ArgumentParser(description="Extract the seed documents' listings (see the manifest).")
    parser.add_argument("--manifest", required=True)
    parser.add_argument("--seeds", required=True, help="the folder holding NNN_*.txt")
    parser.add_argument("--out", required=True, help="where the listings are written")
    parser.add_argument("--quiet", action="store_true", help="print only repairs and errors")
    args = parser.parse_args()

    with open(args.manifest, encoding="utf-8") as f:
        manifest = json.load(f)
    os.makedirs(args.out, exist_ok=True)

    failed = 0
    seen = set()
    for listing in manifest["listings"]:
        lid = listing.get("id", "?")
        try:
            for key in ("id", "seed", "find", "output", "kind"):
                if key not in listing:
                    raise ExtractError("manifest entry lacks %r" % key)
            if listing["kind"] not in ("driver", "app"):
                raise ExtractError("kind must be driver or app, not %r" % listing["kind"])
            if os.path.splitext(listing["output"])[1] not in (".c", ".cpp"):
                raise ExtractError("output must be a .c or .cpp file, not %r" % listing["output"])
            if listing["output"] in seen:
                raise ExtractError("output %r named twice" % listing["output"])
            seen.add(listing["output"])
            text, notes, applied = extract(listing, args.seeds)
        except ExtractError as e:
            print("extract_seeds: error: listing %s: %s" % (lid, e), file=sys.stderr)
            failed += 1
            continue
        changed = write_if_changed(os.path.join(args.out, listing["output"]), text)
        if not args.quiet:
            print("extract_seeds: %s -> %s (%s%s)" % (lid, listing["output"], notes[0], "" if changed else ", unchanged"))
        for line in applied:
            print("extract_seeds: %s: %s" % (lid, line))
    for item in manifest.get("not_compilable", []):
        try:
            name = os.path.basename(find_seed(args.seeds, item["seed"]))
        except ExtractError as e:
            print("extract_seeds: error: not_compilable entry %s: %s" % (item.get("seed"), e), file=sys.stderr)
            failed += 1
            continue
        if not args.quiet:
            print("extract_seeds: %s: not extracted: %s" % (name, item["reason"]))
    if failed:
        print("extract_seeds: %d listing(s) failed" % failed, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
