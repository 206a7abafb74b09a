//! Keeps the ctap-bridge binary (the entry point of the Python/Node interop harnesses) honest under plain
//! `cargo test`: framing, the CTAP channel (getInfo through the real engine), the scripted verifier and the
//! WebAuthn JSON channel, without needing Python or Node.

use std::io::{Read, Write};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};

struct Bridge {
    child: Child,
    stdin: ChildStdin,
    stdout: ChildStdout,
}

impl Bridge {
    fn start(dir: &std::path::Path, extra: &[&str]) -> Bridge {
        let mut child = Command::new(env!("CARGO_BIN_EXE_ctap-bridge"))
            .arg("--store")
            .arg(dir.join("store.sqlite3"))
            .args(extra)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("bridge starts");
        let stdin = child.stdin.take().expect("stdin");
        let stdout = child.stdout.take().expect("stdout");
        Bridge { child, stdin, stdout }
    }

    fn exchange(&mut self, channel: u8, payload: &[u8]) -> Vec<u8> {
        let len = u32::try_from(payload.len() + 1).expect("small");
        self.stdin.write_all(&len.to_be_bytes()).expect("write");
        self.stdin.write_all(&[channel]).expect("write");
        self.stdin.write_all(payload).expect("write");
        self.stdin.flush().expect("flush");
        let mut len = [0u8; 4];
        self.stdout.read_exact(&mut len).expect("reply length");
        let mut body = vec![0u8; u32::from_be_bytes(len) as usize];
        self.stdout.read_exact(&mut body).expect("reply body");
        body
    }

    fn json(&mut self, channel: u8, request: serde_json::Value) -> serde_json::Value {
        serde_json::from_slice(&self.exchange(channel, request.to_string().as_bytes())).expect("JSON reply")
    }

    fn finish(mut self) {
        drop(self.stdin);
        let status = self.child.wait().expect("bridge exits");
        assert!(status.success(), "bridge exited with {status}");
    }
}

fn temp_dir(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("tandem-bridge-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

fn create_options(challenge: &str) -> serde_json::Value {
    serde_json::json!({
        "rp": {"id": "example.com", "name": "Example"},
        "user": {"id": "AQIDBA", "name": "alice@example.com", "displayName": "Alice"},
        "challenge": challenge,
        "pubKeyCredParams": [{"type": "public-key", "alg": -7}],
        "authenticatorSelection": {"residentKey": "required", "userVerification": "required"},
        "attestation": "none",
    })
}

#[test]
fn get_info_over_the_ctap_channel_is_canonical_cbor() {
    let dir = temp_dir("info");
    let mut bridge = Bridge::start(&dir, &[]);
    let reply = bridge.exchange(0x01, &[0x04]);
    assert_eq!(reply.first(), Some(&0x00), "getInfo succeeds");
    let info = tandem_cbor::decode_canonical(&reply[1..]).expect("canonical getInfo");
    let versions = info.get_int(1).and_then(|v| v.as_array()).expect("versions");
    assert!(versions.iter().any(|v| v.as_text() == Some("FIDO_2_0")));
    // An unknown command is an error status with no body.
    assert_eq!(bridge.exchange(0x01, &[0x7f]).len(), 1);
    bridge.finish();
}

#[test]
fn webauthn_channel_registers_and_the_scripted_user_can_refuse() {
    let dir = temp_dir("webauthn");
    let mut bridge = Bridge::start(&dir, &[]);
    let create = |c: &str| serde_json::json!({"op": "create", "origin": "https://example.com", "options": create_options(c)});
    let ok = bridge.json(0x03, create("AAAAAAAAAAAAAAAAAAAAAA"));
    let credential = &ok["credential"];
    assert_eq!(credential["type"], "public-key");
    assert!(
        credential["response"]["attestationObject"]
            .as_str()
            .is_some_and(|s| s.len() > 100)
    );

    assert_eq!(
        bridge.json(0x02, serde_json::json!({"verifier": "deny"}))["ok"],
        true
    );
    let refused = bridge.json(0x03, create("BBBBBBBBBBBBBBBBBBBBBA"));
    // CTAP2_ERR_OPERATION_DENIED (0x27) from the engine, surfaced by Tandem's WebAuthn layer.
    assert!(refused.get("credential").is_none(), "{refused}");
    assert!(
        refused["error"].as_str().is_some_and(|e| e.contains("0x27")),
        "{refused}"
    );

    let prompts = bridge.json(0x02, serde_json::json!({"prompts": true}));
    let prompts = prompts["prompts"].as_array().expect("prompt log");
    assert_eq!(
        prompts.len(),
        2,
        "one prompt per registration attempt: {prompts:?}"
    );
    assert_eq!(prompts[0]["rp_id"], "example.com");
    assert_eq!(prompts[0]["account"]["name"], "alice@example.com");
    bridge.finish();
}
