#!/usr/bin/env python3
"""Writes seed corpora for the cargo-fuzz targets in fuzz/ from tests/data/hybrid-vectors.json.

usage: fuzz_seeds.py VECTORS.json OUT_DIR TARGET...
Each target gets OUT_DIR/<target>/seed-N files (raw bytes). Seeds are the real and derived protocol messages
the target's parser sees in a session, so the fuzzer starts from valid inputs and mutates from there.
"""

from __future__ import annotations

import json
import pathlib
import sys


def hx(s: str) -> bytes:
    return bytes.fromhex(s)


def seeds_for(v: dict) -> dict[str, list[bytes]]:
    s = v["derived_qr_initiated_session"]
    sa = v.get("derived_state_assisted_session", {})
    real_qr = v["real_qr_codes"]
    ph = v["real_post_handshake_messages"]
    chromium = v["transport_encryption_from_chromium_keys"]

    qr_urls = [real_qr["chrome"]["url"], real_qr["safari_ios"]["url"], s["qr_url"], v["real_android_advert"]["qr_url"]]
    cbor = [
        hx(real_qr["chrome"]["cbor"]),
        hx(real_qr["safari_ios"]["cbor"]),
        hx(s["qr_cbor"]),
        hx(s["getinfo_cbor"]),
        hx(s["post_handshake_plaintext"]),
        hx(ph["android_chrome"]["plaintext"]),
        hx(ph["ios16"]["plaintext"]),
        hx(s["update_plaintext_with_type_byte"])[1:],
        hx(s["request_plaintext_with_type_byte"])[2:],
    ]
    frames = [
        hx(s["request_plaintext_with_type_byte"]),
        hx(s["response_plaintext_with_type_byte"]),
        hx(s["update_plaintext_with_type_byte"]),
        hx(chromium["plaintext_frame"]),
        hx(chromium["padded"]),
        b"\x00",
    ]
    ctap = [
        hx(s["request_plaintext_with_type_byte"])[1:],  # makeCredential/getAssertion: cmd || CBOR
        hx(chromium["plaintext_frame"])[1:],
        b"\x04",  # getInfo
        b"\x07",  # reset
        b"\x0b",  # selection
    ]
    paths = [
        s["new_tunnel_path"].encode(),
        s["connect_path"].encode(),
        b"/cable/contact/ZXhhbXBsZS1jb250YWN0LWlk",
        v["real_android_advert"]["connect_url"].split("cable.ua5v.com", 1)[1].encode(),
    ]
    out = {
        "cbor_decode": cbor,
        "qr_parse": [u.encode() for u in qr_urls] + [c["digits"].encode() for c in v["digits"]["cases"]],
        "qr_digits": [c["digits"].encode() for c in v["digits"]["cases"]] + [u[6:].encode() for u in qr_urls],
        "advert_decrypt": [hx(s["advert"]), hx(v["real_android_advert"]["advert"])],
        "noise_msg1": [hx(s["handshake_msg1_desktop_to_phone"])],
        "noise_msg2": [hx(s["handshake_msg2_phone_to_desktop"])],
        "transport_frame": frames,
        "transport_decrypt": [
            hx(s["request_ciphertext_seq0"]),
            hx(s["shutdown_ciphertext_seq1"]),
        ],
        "post_handshake": [hx(s["post_handshake_plaintext"]), hx(ph["android_chrome"]["plaintext"]), hx(ph["ios16"]["plaintext"])],
        "update_message": [hx(s["update_plaintext_with_type_byte"]), hx(s["update_plaintext_with_type_byte"])[1:]],
        "ctap_request": ctap,
        "tunnel_path": paths,
        "tunnel_request": [p + b"\n" for p in paths],
        "wake_message": [hx(sa["client_payload_cbor"])] if "client_payload_cbor" in sa else [],
    }
    for key in ("handshake_msg1_desktop_to_phone", "handshake_msg2_phone_to_desktop"):
        if key in sa:
            out.setdefault("noise_msg1" if "msg1" in key else "noise_msg2", []).append(hx(sa[key]))
    return out


def main() -> int:
    if len(sys.argv) < 3:
        print(__doc__, file=sys.stderr)
        return 2
    vectors = json.loads(pathlib.Path(sys.argv[1]).read_text())
    out_dir = pathlib.Path(sys.argv[2])
    table = seeds_for(vectors)
    for target in sys.argv[3:]:
        d = out_dir / target
        d.mkdir(parents=True, exist_ok=True)
        seeds = table.get(target) or table["cbor_decode"]
        for i, seed in enumerate(seeds):
            (d / f"seed-{i}").write_bytes(seed)
    return 0


if __name__ == "__main__":
    sys.exit(main())
