#!/usr/bin/env python3
"""Writes seed corpora for the cargo-fuzz targets in fuzz/ from tests/data/hybrid-vectors.json.

usage: fuzz_seeds.py VECTORS.json OUT_DIR TARGET...
Each target gets OUT_DIR/<target>/seed-N files (raw bytes). Seeds are the real and derived protocol messages
the target's parser sees in a session, so the fuzzer starts from valid inputs and mutates from there.
"""

from __future__ import annotations

import json
import pathlib
import struct
import sys


def hx(s: str) -> bytes:
    return bytes.fromhex(s)


# --- stored_row: the input format of fuzz/fuzz_targets/stored_row.rs (kind byte, then fields) ---------------
def _b(data: bytes) -> bytes:
    return len(data).to_bytes(2, "big") + data


def _t(text: str) -> bytes:
    return _b(text.encode())


def _opt(value, enc) -> bytes:
    return b"\x00" if value is None else b"\x01" + enc(value)


def _i64(i: int) -> bytes:
    return i.to_bytes(8, "big", signed=True)


def col_null() -> bytes:
    return b"\x00"


def col_int(i: int) -> bytes:
    return b"\x01" + _i64(i)


def col_real(f: float) -> bytes:
    return b"\x02" + struct.pack(">d", f)


def col_text(data: bytes) -> bytes:
    return b"\x03" + _b(data)


def col_blob(data: bytes) -> bytes:
    return b"\x04" + _b(data)


def made_credential(*, cred_id, rp_id, rp_name, user_id, user_name, display, alg, discoverable, cred_protect,
                    be, bs, sign_count, created_at, cred_blob, secret, edits=b"") -> bytes:
    """Kind 0: a credential the target stores with the real SqliteStore::insert, then `edits` to its row."""
    flags = int(discoverable) | int(be) << 1 | int(bs) << 2
    return (b"\x00" + bytes([flags]) + _b(cred_id) + _t(rp_id) + _opt(rp_name, _t) + _b(user_id)
            + _opt(user_name, _t) + _opt(display, _t) + _i64(alg) + bytes([cred_protect])
            + sign_count.to_bytes(4, "big") + _i64(created_at * 2) + _opt(cred_blob, _b) + _b(secret) + edits)


def stored_row_seeds() -> list[bytes]:
    passkey = dict(cred_id=bytes(range(16)), rp_id="example.com", rp_name="Example", user_id=b"\x9a" * 32,
                   user_name="alice@example.com", display="Alice", alg=-7, discoverable=True, cred_protect=2,
                   be=True, bs=True, sign_count=0, created_at=1_700_000_000, cred_blob=None,
                   secret=bytes(range(32, 96)))
    server_side = dict(cred_id=b"\x01" * 48, rp_id="login.example.org", rp_name=None, user_id=b"u1",
                       user_name=None, display=None, alg=-8, discoverable=False, cred_protect=3, be=False,
                       bs=False, sign_count=41, created_at=1_600_000_000, cred_blob=b"blob", secret=b"\x07" * 32)
    sealed_shape = b"\x01" + bytes(12) + bytes(range(64)) + bytes(16)  # version || nonce || ct || tag
    raw_row = [col_blob(bytes(range(16))), col_text(b"example.com"), col_text(b"Example"), col_blob(b"\x9a" * 32),
               col_text(b"alice@example.com"), col_text(b"Alice"), col_int(-7), col_int(1), col_int(2), col_int(1),
               col_int(1), col_int(0), col_int(1_700_000_000), col_null(), col_blob(sealed_shape)]
    link = [col_blob(bytes(range(8))), col_text(b"Chrome on Linux"), col_int(1_700_000_000),
            col_text(b"cable.ua5v.com")]
    return [
        made_credential(**passkey),
        made_credential(**server_side),
        # Unbound columns (rp_name, sign_count) edited: still opens, and writes back as edited.
        made_credential(**passkey, edits=b"\x02" + col_text(b"Renamed") + b"\x0b" + col_int(7)),
        # Bound column (rp_id) edited, and the sealed secret damaged: never opens.
        made_credential(**passkey, edits=b"\x01" + col_text(b"evil.example")),
        made_credential(**server_side, edits=b"\x0f\x00\x00\x05\x03"),
        made_credential(**server_side, edits=b"\x0d" + col_text(b"\xff\xfe")),
        b"\x01" + b"".join(raw_row),
        b"\x01" + b"".join(raw_row[:6] + [col_real(-7.0)] + raw_row[7:]),
        b"\x02" + b"".join(link),
        b"\x02" + b"".join([col_blob(bytes(7))] + link[1:]),
        # Kind 3: a hybrid secret put with the real put_secret, then looked up as is / under another
        # name / with its sealed column replaced and damaged.
        b"\x03" + _t("identity_key") + _b(bytes(range(32))) + b"\x00",
        b"\x03" + _t("identity_key") + _b(bytes(range(32))) + b"\x01" + _t("identity_kez"),
        b"\x03" + _t("link/0102030405060708") + _b(b"secret") + b"\x06" + col_blob(sealed_shape) + b"\x00\x00\x02\x01",
    ]


def upgrade_request(path: str, *extra: str, protocol: str = "fido.cable") -> bytes:
    """A standard WebSocket upgrade request head (RFC 6455 headers plus the caBLE ones) for the tunnel service."""
    lines = [f"GET {path} HTTP/1.1", "Host: cable.ua5v.com", "Connection: Upgrade", "Upgrade: websocket",
             "Sec-WebSocket-Version: 13", "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==",
             f"Sec-WebSocket-Protocol: {protocol}", *extra]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def _cbor_bytes(b: bytes) -> bytes:
    n = len(b)
    head = bytes([0x40 | n]) if n < 24 else bytes([0x58, n]) if n < 256 else b"\x59" + n.to_bytes(2, "big")
    return head + b


def wake_message(tunnel_id: bytes, routing_id: bytes, client_payload: bytes) -> bytes:
    """{1: tunnel ID, 2: routing ID, 3: client payload} in canonical CBOR, as the tunnel server sends it."""
    return b"\xa3\x01" + _cbor_bytes(tunnel_id) + b"\x02" + _cbor_bytes(routing_id) + b"\x03" + _cbor_bytes(client_payload)


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
        "tunnel_request": [p + b"\n" for p in paths]
        + [wake_message(bytes(range(16)), b"\x01\x02\x03", hx(sa.get("client_payload_cbor", "a0")))],
        "tunnel_headers": [
            upgrade_request(s["new_tunnel_path"]),
            upgrade_request(s["connect_path"], protocol="chat, fido.cable"),
            upgrade_request(paths[3].decode()),
            upgrade_request(sa.get("contact_path", "/cable/contact/ZXhhbXBsZS1jb250YWN0LWlk"),
                            "X-caBLE-Client-Payload: " + sa.get("X-caBLE-Client-Payload", "A0"),
                            "X-caBLE-Signal-Connection: true"),
            upgrade_request("/cable/contact/ZXhhbXBsZS1jb250YWN0LWlk", "X-caBLE-Client-Payload: zz"),
            upgrade_request("/tandem/wake/ZXhhbXBsZS1jb250YWN0LWlk"),
            upgrade_request(s["new_tunnel_path"], protocol="chat"),
        ],
        "stored_row": stored_row_seeds(),
        "webauthn_options": [
            b"\x00" + json.dumps({"publicKey": {
                "challenge": "AQID", "rp": {"id": "example.com", "name": "Example"},
                "user": {"id": "BAU", "name": "a@example.com", "displayName": "A"},
                "pubKeyCredParams": [{"type": "public-key", "alg": -7}],
                "excludeCredentials": [{"type": "public-key", "id": "Bg", "transports": ["hybrid"]}],
                "authenticatorSelection": {"residentKey": "required"},
                "extensions": {"credProps": True, "prf": {"eval": {"first": "AA"}}}}}).encode(),
            b"\x01" + json.dumps({
                "challenge": "AQID", "rpId": "example.com",
                "allowCredentials": [{"type": "public-key", "id": "Bg"}],
                "extensions": {"getCredBlob": True, "prf": {"evalByCredential": {"Bg": {"first": "AA"}}}}}).encode(),
        ],
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
