#!/usr/bin/env python3
"""Checks that references into the project's docs resolve, and that no reference points elsewhere.

Fails (exit 1, one line per problem) on:
  * a `docs/<file>.md[#anchor]` reference, anywhere in the tree, whose file does not exist or whose anchor is
    not defined in that file (explicit `<a id="...">` / `<a name="...">`, or a heading's GitHub slug);
  * a relative Markdown link `](<file>.md#anchor)` in a `.md` file that does not resolve the same way;
  * a bare reference to the out-of-tree planning document: "spec §N", "hybrid.md §N", "pitfall PN",
    `shared/spec/hybrid.md`;
  * a `§` not attributed to a public standard on the same line ("CTAP 2.2 §6.1.2", "RFC 6455 §4.1",
    "WebAuthn §8.2.1", chains like "CTAP 2.2 §6.1.2 / §6.2.2" included).

Files: tracked and untracked-but-not-ignored files (git), without target/, node_modules/, crates/ffi/generated/
and binary files. Usage: scripts/check_doc_refs.py [repository root]
"""

import os
import re
import subprocess
import sys

EXCLUDED_DIRS = ("target/", "targets/", "node_modules/", "crates/ffi/generated/", ".git/")
SECTION = "\u00a7"  # the section sign, spelled out so this file does not match its own patterns

# `docs/x.md` or `docs/x.md#anchor`, not as part of a longer path (`android/docs/...`).
DOC_REF = re.compile(r"(?<![\w./-])(docs/[\w./-]+?\.md)(?:#([\w-]+))?")
# `](x.md#anchor)` / `](../docs/x.md)` in Markdown, resolved relative to the Markdown file.
MD_LINK = re.compile(r"\]\((?!https?:|mailto:|#)([^)\s#]+\.md)(?:#([\w-]+))?\)")
BARE = [
    (re.compile(r"\bspec\s*" + SECTION), "bare 'spec " + SECTION + "' reference"),
    (re.compile(r"hybrid\.md\s*" + SECTION), "reference to hybrid.md sections"),
    (re.compile(r"\bpitfalls?\s+P\d+"), "bare 'pitfall P' reference"),
    (re.compile(r"shared/spec/hybrid\.md"), "reference to the out-of-tree shared/spec/hybrid.md"),
]
# A public standard's section, possibly followed by more sections of the same standard.
NUM = SECTION + r"\d+(?:\.\d+)*"
SEP = r"(?:\s+steps?\s+\d+(?:[\u2013-]\d+)?)?(?:\s+\"[^\"]*\")?\s*(?:/|,|and|or|\u2013)\s*"
PUBLIC = re.compile(r"(?:CTAP \d\.\d|RFC \d+|WebAuthn(?: Level \d)?)\s+" + NUM + r"(?:" + SEP + NUM + r")*")
ANCHOR_DEF = re.compile(r"<a\s+(?:id|name)=\"([^\"]+)\"")
HEADING = re.compile(r"^#{1,6}\s+(.*?)\s*#*\s*$")


def list_files(root):
    try:
        out = subprocess.run(
            ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
            cwd=root, check=True, capture_output=True,
        ).stdout.decode()
        files = sorted(set(f for f in out.split("\0") if f))
    except (OSError, subprocess.CalledProcessError):
        files = []
        for d, dirs, names in os.walk(root):
            rel = os.path.relpath(d, root)
            dirs[:] = [x for x in dirs if not (os.path.join(rel, x) + "/").lstrip("./").startswith(EXCLUDED_DIRS)
                       and x not in ("target", "node_modules", ".git")]
            files += [os.path.normpath(os.path.join(rel, n)) for n in names]
    return [f for f in files if not any(f.startswith(e) or ("/" + e) in f for e in EXCLUDED_DIRS)]


def read_text(path):
    try:
        with open(path, "rb") as fh:
            data = fh.read()
    except OSError:
        return None
    if b"\0" in data[:8192]:
        return None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return None


def github_slug(text):
    text = re.sub(r"<[^>]+>", "", text)  # inline HTML such as anchors
    text = re.sub(r"[`*_]|\[([^\]]*)\]\([^)]*\)", lambda m: m.group(1) or "", text)
    text = text.strip().lower()
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


_anchor_cache = {}


def anchors_of(path):
    if path not in _anchor_cache:
        text = read_text(path) or ""
        found = set(ANCHOR_DEF.findall(text))
        seen = {}
        in_fence = False
        for line in text.splitlines():
            if line.lstrip().startswith("```"):
                in_fence = not in_fence
                continue
            m = None if in_fence else HEADING.match(line)
            if m:
                slug = github_slug(m.group(1))
                n = seen.get(slug, 0)
                seen[slug] = n + 1
                found.add(slug if n == 0 else f"{slug}-{n}")
        _anchor_cache[path] = found
    return _anchor_cache[path]


def check_target(root, target, anchor, where, problems):
    full = os.path.normpath(os.path.join(root, target))
    if not os.path.isfile(full):
        problems.append(f"{where}: {target} does not exist")
    elif anchor and anchor not in anchors_of(full):
        problems.append(f"{where}: {target} has no anchor #{anchor}")


def main():
    root = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), ".."))
    problems = []
    refs = 0
    me = os.path.relpath(os.path.abspath(__file__), root)
    for rel in list_files(root):
        if rel == me:
            continue  # its own docstring and patterns spell out what it looks for
        text = read_text(os.path.join(root, rel))
        if text is None:
            continue
        is_md = rel.endswith(".md")
        for lineno, line in enumerate(text.splitlines(), 1):
            where = f"{rel}:{lineno}"
            for m in DOC_REF.finditer(line):
                refs += 1
                check_target(root, m.group(1), m.group(2), where, problems)
            if is_md:
                for m in MD_LINK.finditer(line):
                    target = os.path.relpath(
                        os.path.normpath(os.path.join(os.path.dirname(rel), m.group(1))), ".")
                    if target.startswith("docs/") and DOC_REF.search(line[m.start():m.end()]):
                        continue  # already checked as a docs/ reference
                    refs += 1
                    check_target(root, target, m.group(2), where, problems)
            bare = [what for pattern, what in BARE if pattern.search(line)]
            if bare:
                problems.append(f"{where}: {'; '.join(bare)}: {line.strip()}")
            elif SECTION in line:
                allowed = set()
                for m in PUBLIC.finditer(line):
                    allowed.update(i for i in range(m.start(), m.end()) if line[i] == SECTION)
                if any(c == SECTION and i not in allowed for i, c in enumerate(line)):
                    problems.append(f"{where}: {SECTION} without a public standard (write "
                                    f"'CTAP 2.2 {SECTION}6.1.2' or link docs/<file>.md#<anchor>): {line.strip()}")
    for p in problems:
        print(p)
    print(f"doc references: {refs} checked, {len(problems)} problem(s)")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
