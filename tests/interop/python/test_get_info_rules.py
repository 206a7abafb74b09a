"""Every getInfo profile, as python-fido2 (2.x) reads it, and the consistency rules its client depends on.

The Rust test tests/tests/get_info_rules.rs (through crates/desktop/src/get_info.rs) restates Chromium's getInfo parser; this file lets a client nobody
here wrote parse the same bytes (fido2.ctap2.Info, strict CBOR) and checks the cross-field rules python-fido2
builds on: credBlob needs maxCredBlobLength >= 32, largeBlobKey pairs with the largeBlobs option, a
pinUvAuthToken/clientPin needs a PIN/UV protocol python-fido2 can use.
"""

from __future__ import annotations

import hashlib

import pytest
from fido2 import cbor
from fido2.ctap2 import Ctap2, Info
from fido2.ctap2.pin import ClientPin

from tandem_bridge import Bridge, TandemDevice

PROFILES = ["direct", "hybrid"]


@pytest.fixture(params=PROFILES)
def profile_bridge(tmp_path, request):
    with Bridge(str(tmp_path / "store.sqlite3"), "--profile", request.param) as b:
        yield request.param, b


def raw_info(bridge: Bridge) -> dict:
    reply = bridge.ctap(bytes([0x04]))
    assert reply[0] == 0x00, f"getInfo status {reply[0]:#04x}"
    decoded = cbor.decode(reply[1:])
    # Canonical: re-encoding gives the same bytes (python-fido2's strict mode checks this too).
    assert cbor.encode(decoded) == reply[1:]
    return decoded


def test_python_fido2_parses_every_profile(profile_bridge):
    profile, bridge = profile_bridge
    info = Info.from_dict(raw_info(bridge))
    assert Ctap2(TandemDevice(bridge), strict_cbor=True).info == info
    assert len(info.aaguid) == 16
    assert info.options.get("rk") is True and info.options.get("uv") is True
    # credBlob <=> maxCredBlobLength >= 32 (CTAP 2.1 §6.4; Chromium drops the whole getInfo otherwise).
    assert ("credBlob" in info.extensions) == (info.max_cred_blob_length > 0)
    if "credBlob" in info.extensions:
        assert info.max_cred_blob_length >= 32
        assert "credProtect" in info.extensions
    # largeBlobKey <=> the largeBlobs option.
    assert ("largeBlobKey" in info.extensions) == bool(info.options.get("largeBlobs"))
    # A UV token needs a PIN/UV protocol python-fido2 implements; its ClientPin picks one or raises.
    if info.options.get("pinUvAuthToken") or "clientPin" in info.options:
        assert set(info.pin_uv_protocols) & {1, 2}
        # Not ClientPin.is_supported(info): that only says whether the clientPin option is present, and it must
        # be absent here (CTAP 2.2 §6.4: present means the authenticator accepts a PIN; Tandem has none, only
        # UV tokens, which python-fido2 uses through ClientPin all the same).
        ClientPin(Ctap2(TandemDevice(bridge), strict_cbor=True))
    if "hmac-secret" in info.extensions:
        assert info.pin_uv_protocols, "hmac-secret needs the ClientPIN key agreement"
    if profile == "hybrid":
        # What a phone offers over hybrid: no PIN/UV token machinery, PRF instead of raw hmac-secret.
        assert "prf" in info.extensions
        assert not info.pin_uv_protocols
        assert "clientPin" not in info.options and "pinUvAuthToken" not in info.options
        assert "hmac-secret" not in info.extensions and "largeBlobKey" not in info.extensions
        assert "hybrid" in info.transports


def test_hybrid_credentials_are_discoverable_without_rk(tmp_path):
    """A desktop that never sends rk still gets a passkey that signs in with an empty allow list.

    Raw CTAP through python-fido2's Ctap2: its Fido2Client builds a ClientPin (which needs a PIN/UV protocol)
    for every UV-requiring makeCredential, and a phone's hybrid getInfo offers none, as Chromium's phone's
    does not; over hybrid the browser is the client, and it sends uv as an option.
    """
    with Bridge(str(tmp_path / "store.sqlite3"), "--profile", "hybrid") as bridge:
        ctap = Ctap2(TandemDevice(bridge), strict_cbor=True)
        user = {"id": b"u" * 16, "name": "alice", "displayName": "Alice"}
        att = ctap.make_credential(
            hashlib.sha256(b"register").digest(),
            {"id": "example.com", "name": "Example"},
            user,
            [{"type": "public-key", "alg": -7}],
            options={"uv": True},
        )
        auth_data = att.auth_data
        assert auth_data.is_user_verified()
        # Nothing syncs in this build: no backup flags, and a counter that counts.
        assert not auth_data.is_backup_eligible() and not auth_data.is_backed_up()
        credential = auth_data.credential_data

        challenge = hashlib.sha256(b"sign in").digest()
        assertion = ctap.get_assertion("example.com", challenge, options={"uv": True})
        assert assertion.credential["id"] == credential.credential_id
        assert assertion.user["id"] == user["id"]
        assert assertion.auth_data.counter == 1
        assertion.verify(challenge, credential.public_key)
