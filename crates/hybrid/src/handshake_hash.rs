//! The Noise handshake's final hash: an output of the handshake that the transport crypter keeps and the
//! linking signature binds, so it lives below both.

/// The final handshake hash `h` (32 bytes), bound into the linking signature.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct HandshakeHash([u8; 32]);

impl HandshakeHash {
    /// Wraps raw bytes.
    pub const fn from_bytes(bytes: [u8; 32]) -> Self {
        HandshakeHash(bytes)
    }

    /// The 32 bytes.
    pub const fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }
}

impl std::fmt::Debug for HandshakeHash {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "HandshakeHash({})", hex::encode(self.0))
    }
}
