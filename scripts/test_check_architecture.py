#!/usr/bin/env python3
"""Self-test of check_architecture.py: a cycle between two files is found, layered files and test-only
references are not."""
import pathlib
import subprocess
import sys
import tempfile

HERE = pathlib.Path(__file__).resolve().parent


def run(files: dict[str, str]) -> tuple[int, str]:
    with tempfile.TemporaryDirectory() as d:
        crate = pathlib.Path(d) / "c"
        for name, text in files.items():
            p = crate / "src" / name
            p.parent.mkdir(parents=True, exist_ok=True)
            p.write_text(text)
        r = subprocess.run(
            [sys.executable, str(HERE / "check_architecture.py"), str(crate)], capture_output=True, text=True
        )
        return r.returncode, r.stdout


def main() -> int:
    root = "mod a;\nmod b;\npub use a::A;\n"
    code, out = run({"lib.rs": root, "a.rs": "use crate::b::B;\n", "b.rs": "use crate::a::{self, A};\n"})
    assert code == 1 and "a, b" in out, out
    code, out = run({"lib.rs": root, "a/mod.rs": "mod inner;\n", "a/inner.rs": "use super::super::b::B;\n",
                     "b.rs": "pub fn f() { crate::a::g() }\n"})
    assert code == 0, out  # inner -> b -> a (a/mod.rs only declares inner): layered
    code, out = run({"lib.rs": root, "a/mod.rs": "mod inner;\npub fn g() { inner::h() }\n",
                     "a/inner.rs": "use super::super::b::B;\npub fn h() {}\n", "b.rs": "pub fn f() { crate::a::g() }\n"})
    assert code == 1 and "a, a::inner, b" in out, out
    code, out = run({"lib.rs": root, "a.rs": "use crate::b::B;\n",
                     "b.rs": "pub struct B;\n#[cfg(test)]\nmod tests {\n    use crate::a::A;\n}\n"})
    assert code == 0, out
    print("check_architecture self-test: ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
