"""Client side of the ctap-bridge protocol (tests/src/bin/ctap-bridge.rs).

The bridge hosts Tandem's real engine (tandem_engine::Authenticator over a real SQLite store) and reads frames
from stdin, writing one reply frame per request to stdout:

    frame  = u32 big-endian length || body
    body   = channel byte || payload
    0x01   CTAP: payload = command byte || CBOR   -> reply = status byte || CBOR   (exactly handle_ctap)
    0x02   control: payload = JSON object        -> reply = JSON object ({"ok": true, ...} or {"error": ...})
    0x03   WebAuthn: payload = JSON request      -> reply = JSON ({"credential": {...}} or {"error": ...})

Control requests script the platform side: {"verifier": "approve"|"deny"|"cancel"|"timeout"|"unavailable"},
{"choose": <index>|null}, {"prompts": true} (returns and clears the prompts the user was shown),
{"info": true} (returns the attestation root certificate, if any, as base64url DER).
"""

from __future__ import annotations

import json
import os
import struct
import subprocess
from typing import Any, Iterator

from fido2.ctap import CtapDevice, CtapError
from fido2.hid import CAPABILITY, CTAPHID

CHANNEL_CTAP = 0x01
CHANNEL_CONTROL = 0x02
CHANNEL_WEBAUTHN = 0x03


class BridgeError(RuntimeError):
    """The bridge process failed or answered something unparseable."""


class Bridge:
    """One ctap-bridge process hosting one authenticator with one store file."""

    def __init__(self, store: str, *extra_args: str, binary: str | None = None):
        binary = binary or os.environ.get("TANDEM_CTAP_BRIDGE")
        if not binary:
            raise BridgeError("set TANDEM_CTAP_BRIDGE to the ctap-bridge binary")
        self.args = [binary, "--store", store, *extra_args]
        self.proc = subprocess.Popen(self.args, stdin=subprocess.PIPE, stdout=subprocess.PIPE)

    def _exchange(self, channel: int, payload: bytes) -> bytes:
        body = bytes([channel]) + payload
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.write(struct.pack(">I", len(body)) + body)
        self.proc.stdin.flush()
        header = self.proc.stdout.read(4)
        if len(header) != 4:
            raise BridgeError(f"bridge closed its output (exit code {self.proc.poll()})")
        (length,) = struct.unpack(">I", header)
        reply = self.proc.stdout.read(length)
        if len(reply) != length:
            raise BridgeError("short reply from bridge")
        return reply

    def ctap(self, request: bytes) -> bytes:
        """Sends command byte || CBOR, returns status byte || CBOR."""
        return self._exchange(CHANNEL_CTAP, request)

    def control(self, **request: Any) -> dict:
        reply = json.loads(self._exchange(CHANNEL_CONTROL, json.dumps(request).encode()))
        if "error" in reply:
            raise BridgeError(f"control {request}: {reply['error']}")
        return reply

    def webauthn(self, request: dict) -> dict:
        return json.loads(self._exchange(CHANNEL_WEBAUTHN, json.dumps(request).encode()))

    def close(self) -> None:
        if self.proc.stdin:
            self.proc.stdin.close()
        try:
            code = self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            raise BridgeError("bridge did not exit after stdin closed")
        if code != 0:
            raise BridgeError(f"bridge exited with {code}")

    def __enter__(self) -> "Bridge":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class TandemDevice(CtapDevice):
    """A python-fido2 CtapDevice whose CBOR channel is Tandem's handle_ctap, byte for byte."""

    def __init__(self, bridge: Bridge):
        self.bridge = bridge
        self.calls: list[tuple[int, bytes, bytes]] = []

    @property
    def capabilities(self) -> int:
        # CBOR only; NMSG says "no CTAP1/U2F", so fido2 never falls back to U2F and hides a CTAP2 failure.
        return CAPABILITY.CBOR | CAPABILITY.NMSG

    def call(self, cmd, data=b"", event=None, on_keepalive=None) -> bytes:
        if cmd != CTAPHID.CBOR:
            raise CtapError(CtapError.ERR.INVALID_COMMAND)
        reply = self.bridge.ctap(bytes(data))
        self.calls.append((data[0] if data else -1, bytes(data), reply))
        return reply

    def close(self) -> None:
        pass

    @classmethod
    def list_devices(cls) -> Iterator["TandemDevice"]:
        return iter(())
