#!/usr/bin/env python3
"""Checks the architecture docs/architecture.md draws: the crate arrows in its picture are the crates'
normal dependencies (Cargo.toml), and no two source files of one crate depend on each other, directly or
through others.

One idea per module only holds if the modules form layers: a cycle between files means neither can be read,
tested or moved alone. A file depends on another when its non-test code names a path into the other's module
(`use crate::a::b`, `crate::a::f()`, `super::x`); `mod` and `pub use` lines in a crate root or `mod.rs` are
declarations, not dependencies, and `#[cfg(test)] mod tests` blocks (always last in a file here) are skipped.

Usage: scripts/check_architecture.py              (the picture, then every crates/*/)
       scripts/check_architecture.py CRATE_DIR...  (only the file cycles of these crates)
"""
import json
import pathlib
import subprocess
import re
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent
PATH = re.compile(r"\b(crate|super|self)((?:::\w+)+)")
USE_GROUP = re.compile(r"\buse\s+(crate|super|self)((?:::\w+)*)::\{([^;]*)\}", re.S)


def modules(src: pathlib.Path) -> dict[tuple, pathlib.Path]:
    """Module path -> file, for every .rs file under src (bins excluded: they are their own crates)."""
    out = {}
    for f in src.rglob("*.rs"):
        rel = f.relative_to(src)
        if rel.parts[0] == "bin":
            continue
        parts = list(rel.with_suffix("").parts)
        if parts[-1] in ("lib", "main", "mod"):
            parts = parts[:-1]
        out[tuple(parts)] = f
    return out


def code_of(f: pathlib.Path) -> str:
    text = f.read_text()
    cut = re.search(r"^#\[cfg\(test\)\]\s*\n\s*(pub(\(\w+\))?\s+)?mod\s+\w+\s*\{", text, re.M)
    text = text[: cut.start()] if cut else text
    text = re.sub(r"//[^\n]*", "", text)
    if f.name in ("lib.rs", "mod.rs", "main.rs"):
        text = re.sub(r"^\s*(pub(\([^)]*\))?\s+)?(mod\s+\w+\s*;|use\s+[^;]*;)", "", text, flags=re.M)
    return text


def resolve(here: tuple, base: str, segs: list[str], mods: dict) -> tuple | None:
    if base == "crate":
        start = ()
    elif base == "self":
        start = here
    else:
        start = here[:-1]
        while segs and segs[0] == "super":
            start, segs = start[:-1], segs[1:]
    best = None
    cur = start
    if cur in mods:
        best = cur
    for s in segs:
        cur = cur + (s,)
        if cur in mods:
            best = cur
        else:
            break
    return best


def edges(src: pathlib.Path) -> dict[tuple, set]:
    mods = modules(src)
    graph: dict[tuple, set] = {m: set() for m in mods}
    for here, f in mods.items():
        # a file's own module path: for mod.rs/lib.rs the module itself, else as listed
        text = code_of(f)
        refs = []
        for m in USE_GROUP.finditer(text):
            base, prefix, inner = m.group(1), m.group(2), m.group(3)
            for item in re.split(r",", inner):
                item = item.strip().split(" as ")[0].strip()
                if not item or item in ("self", "*"):
                    refs.append((base, prefix.strip(":").split("::") if prefix else []))
                    continue
                head = re.split(r"::\{", item)[0]
                refs.append((base, [p for p in (prefix.strip(":") + "::" + head).split("::") if p]))
        for m in PATH.finditer(text):
            refs.append((m.group(1), [p for p in m.group(2).split("::") if p]))
        # bare paths into this module's own children (`inner::h()`, `use inner::X`)
        for child in {m[len(here)] for m in mods if len(m) == len(here) + 1 and m[: len(here)] == here}:
            for m in re.finditer(r"(?<![\w:])" + re.escape(child) + r"((?:::\w+)+)", text):
                refs.append(("self", [child] + [p for p in m.group(1).split("::") if p]))
        for base, segs in refs:
            target = resolve(here, base, segs, mods)
            if target is not None and target != here and target != ():
                graph[here].add(target)
    return graph


def cycles(graph: dict) -> list[list]:
    index, low, stack, on, out, counter = {}, {}, [], set(), [], [0]

    def strong(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in graph[v]:
            if w not in index:
                strong(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    sys.setrecursionlimit(10000)
    for v in graph:
        if v not in index:
            strong(v)
    return out


ARROW = re.compile(r"^\s*(?:\w+\s+)?(tandem-[\w-]+)\s+──>\s+(.*?)\s*(?:\(.*\))?$")


def picture_problems() -> list[str]:
    """Differences between the arrows in docs/architecture.md and `cargo metadata`."""
    doc = (ROOT / "docs" / "architecture.md").read_text()
    block = re.search(r"```text\n(.*?)```", doc, re.S)
    if not block:
        return ["docs/architecture.md has no ```text picture"]
    drawn = {}
    for line in block.group(1).splitlines():
        m = ARROW.match(line)
        if m:
            deps = {d.strip() for d in m.group(2).split(",") if d.strip() not in ("", "—")}
            drawn[m.group(1)] = {"tandem-" + d for d in deps}
    meta = json.loads(
        subprocess.run(
            ["cargo", "metadata", "--format-version", "1", "--no-deps", "--offline"],
            cwd=ROOT, capture_output=True, text=True, check=True,
        ).stdout
    )
    actual = {
        p["name"]: {d["name"] for d in p["dependencies"] if d["name"].startswith("tandem-") and d.get("kind") is None}
        for p in meta["packages"]
        if p["manifest_path"].startswith(str(ROOT / "crates"))
    }
    out = []
    for name in sorted(actual.keys() | drawn.keys()):
        if name not in drawn:
            out.append(f"docs/architecture.md: {name} is not in the picture")
        elif name not in actual:
            out.append(f"docs/architecture.md: {name} is drawn but is no crate under crates/")
        elif drawn[name] != actual[name]:
            missing = ", ".join(sorted(actual[name] - drawn[name])) or "-"
            extra = ", ".join(sorted(drawn[name] - actual[name])) or "-"
            out.append(f"docs/architecture.md: {name}: arrows missing: {missing}; drawn but absent: {extra}")
    return out


def main() -> int:
    bad = 0
    if len(sys.argv) > 1:
        dirs = [pathlib.Path(d) for d in sys.argv[1:]]
    else:
        dirs = sorted(p for p in (ROOT / "crates").iterdir() if p.is_dir())
        for problem in picture_problems():
            bad += 1
            print(problem)
    for d in dirs:
        src = d / "src"
        if not src.is_dir():
            continue
        for comp in cycles(edges(src)):
            bad += 1
            names = ", ".join("::".join(m) or "(root)" for m in comp)
            shown = d.relative_to(ROOT) if d.resolve().is_relative_to(ROOT) else d
            print(f"{shown}: files depend on each other: {names}")
    print(f"architecture: {bad} problem(s)")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
