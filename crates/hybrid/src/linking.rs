//! Linking information (docs/hybrid-protocol.md#linking-map): the map a phone sends so the desktop can start
//! state-assisted transactions later, and its handshake signature
//! `HMAC-SHA256(ECDH(phone identity, desktop QR key).x, handshake hash)`.

use crate::handshake_hash::HandshakeHash;
use crate::ids::{ContactId, IdError, LinkId};
use crate::keys::{KeyError, PrivateKey, PublicKey, UNCOMPRESSED_LEN};
use crate::mac::hmac_sha256;
use crate::secrets::{PairedSecret, RootSecret};
use subtle::ConstantTimeEq;
use tandem_cbor::Value;

/// Why a linking map was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LinkingError {
    /// The linking information is not a CBOR map.
    #[error("linking information is not a map")]
    NotMap,
    /// A required key is absent.
    #[error("linking key {0} missing")]
    Missing(u8),
    /// A key has the wrong type.
    #[error("linking key {key} must be a {expected}")]
    WrongType {
        /// The key.
        key: u8,
        /// The required type.
        expected: &'static str,
    },
    /// A byte string has the wrong length or is empty.
    #[error("linking key {key}: {source}")]
    Id {
        /// The key.
        key: u8,
        /// What was wrong.
        source: IdError,
    },
    /// Key 4 is not a valid uncompressed P-256 point, or the identity key could not be derived.
    #[error("linking identity key: {0}")]
    Key(#[from] KeyError),
    /// The handshake signature does not verify.
    #[error("linking handshake signature does not verify")]
    BadSignature,
}

/// `HMAC-SHA256(key = ECDH(own, peer).x, message = handshake hash)`. The phone computes it with its identity
/// key and the desktop's QR key; the desktop with its QR key and the phone's identity key.
pub fn handshake_signature(own: &PrivateKey, peer: &PublicKey, hash: &HandshakeHash) -> [u8; 32] {
    hmac_sha256(own.ecdh(peer).as_slice(), hash.as_bytes())
}

/// A validated linking map.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkingInfo {
    contact_id: ContactId,
    link_id: LinkId,
    link_secret: PairedSecret,
    authenticator_key: PublicKey,
    name: String,
    signature: [u8; 32],
}

impl LinkingInfo {
    /// Builds linking information for this session (phone role), signing the handshake hash.
    pub fn new(
        contact_id: ContactId,
        link_id: LinkId,
        link_secret: PairedSecret,
        identity: &PrivateKey,
        name: impl Into<String>,
        desktop_qr_key: &PublicKey,
        hash: &HandshakeHash,
    ) -> Self {
        LinkingInfo {
            contact_id,
            link_id,
            link_secret,
            authenticator_key: identity.public_key(),
            name: name.into(),
            signature: handshake_signature(identity, desktop_qr_key, hash),
        }
    }

    /// Builds linking information the Chromium way (phone role): link secret and identity key derived from
    /// the root secret, so the phone keeps no per-link state.
    pub fn from_root_secret(
        root: &RootSecret,
        contact_id: ContactId,
        link_id: LinkId,
        name: impl Into<String>,
        desktop_qr_key: &PublicKey,
        hash: &HandshakeHash,
    ) -> Result<Self, LinkingError> {
        let secret = root.paired_secret(&contact_id, &link_id);
        let identity = root.identity_key()?;
        Ok(Self::new(
            contact_id,
            link_id,
            secret,
            &identity,
            name,
            desktop_qr_key,
            hash,
        ))
    }

    /// Checks the handshake signature with the QR private key (desktop role), in constant time.
    pub fn verify(&self, qr_identity: &PrivateKey, hash: &HandshakeHash) -> Result<(), LinkingError> {
        let expected = handshake_signature(qr_identity, &self.authenticator_key, hash);
        if bool::from(expected.ct_eq(&self.signature)) {
            Ok(())
        } else {
            Err(LinkingError::BadSignature)
        }
    }

    /// Key 1: the contact ID.
    pub fn contact_id(&self) -> &ContactId {
        &self.contact_id
    }

    /// Key 2: the link ID.
    pub fn link_id(&self) -> &LinkId {
        &self.link_id
    }

    /// Key 3: the link secret.
    pub fn link_secret(&self) -> &PairedSecret {
        &self.link_secret
    }

    /// Key 4: the phone's identity public key.
    pub fn authenticator_key(&self) -> &PublicKey {
        &self.authenticator_key
    }

    /// Key 5: the authenticator's display name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Key 6: the handshake signature.
    pub fn signature(&self) -> &[u8; 32] {
        &self.signature
    }

    /// The CBOR map (keys 1–6).
    pub fn to_value(&self) -> Value {
        Value::map()
            .insert(1u8, Value::bytes(self.contact_id.as_bytes().to_vec()))
            .insert(2u8, Value::bytes(self.link_id.as_bytes().to_vec()))
            .insert(3u8, Value::bytes(self.link_secret.as_bytes().to_vec()))
            .insert(
                4u8,
                Value::bytes(self.authenticator_key.to_uncompressed().to_vec()),
            )
            .insert(5u8, Value::text(self.name.clone()))
            .insert(6u8, Value::bytes(self.signature.to_vec()))
            .build()
    }

    /// Parses a linking map (as Chromium's desktop does: keys 1–4 and 6 byte strings, 5 text, 4 a valid
    /// point). Does not verify the signature: call [`LinkingInfo::verify`]. Other keys (e.g. Google's 999)
    /// are ignored.
    pub fn from_value(v: &Value) -> Result<Self, LinkingError> {
        if v.as_map().is_none() {
            return Err(LinkingError::NotMap);
        }
        let bytes = |key: u8| -> Result<&[u8], LinkingError> {
            v.get_int(i128::from(key))
                .ok_or(LinkingError::Missing(key))?
                .as_bytes()
                .ok_or(LinkingError::WrongType {
                    key,
                    expected: "byte string",
                })
        };
        let id_err = |key: u8| move |source: IdError| LinkingError::Id { key, source };
        let contact_id = ContactId::new(bytes(1)?.to_vec()).map_err(id_err(1))?;
        let link_id = LinkId::from_slice(bytes(2)?).map_err(id_err(2))?;
        let secret = bytes(3)?;
        let link_secret = PairedSecret::from_slice(secret).map_err(|e| LinkingError::Id {
            key: 3,
            source: IdError::Length {
                what: "link secret",
                expected: e.expected,
                got: e.got,
            },
        })?;
        let key4 = bytes(4)?;
        if key4.len() != UNCOMPRESSED_LEN {
            return Err(LinkingError::Id {
                key: 4,
                source: IdError::Length {
                    what: "identity key",
                    expected: UNCOMPRESSED_LEN,
                    got: key4.len(),
                },
            });
        }
        let authenticator_key = PublicKey::from_uncompressed(key4)?;
        let name = v
            .get_int(5)
            .ok_or(LinkingError::Missing(5))?
            .as_text()
            .ok_or(LinkingError::WrongType {
                key: 5,
                expected: "text string",
            })?
            .to_owned();
        let sig = bytes(6)?;
        let signature = <[u8; 32]>::try_from(sig).map_err(|_| LinkingError::Id {
            key: 6,
            source: IdError::Length {
                what: "signature",
                expected: 32,
                got: sig.len(),
            },
        })?;
        Ok(LinkingInfo {
            contact_id,
            link_id,
            link_secret,
            authenticator_key,
            name,
            signature,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn sample(hash: &HandshakeHash, qr: &PrivateKey) -> LinkingInfo {
        LinkingInfo::from_root_secret(
            &RootSecret::from_bytes([7; 32]),
            ContactId::new(b"contact".to_vec()).unwrap(),
            LinkId::from_bytes([1; 8]),
            "Phone",
            &qr.public_key(),
            hash,
        )
        .unwrap()
    }

    #[test]
    fn sign_verify_round_trip() {
        let qr = PrivateKey::generate().unwrap();
        let hash = HandshakeHash::from_bytes([5; 32]);
        let info = sample(&hash, &qr);
        let parsed = LinkingInfo::from_value(&info.to_value()).unwrap();
        assert_eq!(parsed, info);
        parsed.verify(&qr, &hash).unwrap();
        assert_eq!(
            parsed.verify(&qr, &HandshakeHash::from_bytes([6; 32])),
            Err(LinkingError::BadSignature)
        );
        let other = PrivateKey::generate().unwrap();
        assert_eq!(parsed.verify(&other, &hash), Err(LinkingError::BadSignature));
    }

    #[test]
    fn field_checks() {
        let qr = PrivateKey::generate().unwrap();
        let hash = HandshakeHash::from_bytes([5; 32]);
        let good = sample(&hash, &qr).to_value();
        let replace = |key: u8, val: Option<Value>| {
            let mut entries: Vec<(Value, Value)> = good
                .as_map()
                .unwrap()
                .iter()
                .filter(|(k, _)| k != &Value::from(key))
                .cloned()
                .collect();
            if let Some(v) = val {
                entries.push((Value::from(key), v));
            }
            LinkingInfo::from_value(&Value::Map(entries))
        };
        for key in 1..=6u8 {
            assert_eq!(replace(key, None), Err(LinkingError::Missing(key)));
        }
        assert!(matches!(
            replace(2, Some(Value::bytes(vec![0; 7]))),
            Err(LinkingError::Id { key: 2, .. })
        ));
        assert!(matches!(
            replace(3, Some(Value::bytes(vec![0; 31]))),
            Err(LinkingError::Id { key: 3, .. })
        ));
        assert!(matches!(
            replace(4, Some(Value::bytes(vec![4; 65]))),
            Err(LinkingError::Key(_))
        ));
        assert!(matches!(
            replace(5, Some(Value::bytes(vec![]))),
            Err(LinkingError::WrongType { key: 5, .. })
        ));
        assert!(matches!(
            replace(1, Some(Value::text("x"))),
            Err(LinkingError::WrongType { key: 1, .. })
        ));
        assert!(replace(99, Some(Value::Bool(true))).is_ok());
        assert_eq!(LinkingInfo::from_value(&Value::Null), Err(LinkingError::NotMap));
    }

    proptest! {
        #[test]
        fn from_value_never_panics(b in proptest::collection::vec(any::<u8>(), 0..200)) {
            if let Ok(v) = tandem_cbor::decode(&b) {
                let _ = LinkingInfo::from_value(&v);
            }
        }
    }
}
