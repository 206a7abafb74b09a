//! Sans-I/O role machines: the phone (responder) and the desktop (initiator) from the first handshake
//! message to serving, as types whose transitions consume them. Each state owns its handshake or crypter;
//! bytes go in, frames to send and parsed messages come out. A driver only moves those bytes between the
//! machine, the tunnel and the radio.
//!
//! ```text
//! phone:   ResponderAwaitingMsg1 ─read_msg1─▶ ResponderEstablished ─serve─▶ ResponderServing
//!                                 (msg2, post-handshake)              (optional update)
//! desktop: InitiatorAwaitingMsg2 ─read_msg2─▶ InitiatorAwaitingPostHandshake ─read_post_handshake─▶ InitiatorServing
//! ```

use crate::crypter::{Crypter, CrypterError};
use crate::keys::{PrivateKey, PublicKey};
use crate::messages::{AuthenticatorMessage, ClientMessage, MessageError};
use crate::noise::{HANDSHAKE_MSG_LEN, HandshakeHash, InitiatorHandshake, NoiseError, ResponderHandshake};
use crate::post_handshake::{PostHandshakeError, PostHandshakeMessage};
use crate::secrets::Psk;
use crate::update::UpdateMessage;

/// Why the phone's machine refused its input. Each role has its own error so that a failure the role
/// cannot meet (the phone never reads a post-handshake message) is not representable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ResponderError {
    /// The handshake failed (wrong length, bad key, wrong PSK, no randomness).
    #[error(transparent)]
    Noise(#[from] NoiseError),
    /// A transport frame could not be sealed or opened.
    #[error(transparent)]
    Transport(#[from] CrypterError),
    /// A decrypted message does not parse.
    #[error(transparent)]
    Message(#[from] MessageError),
}

/// Why the desktop's machine refused its input.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InitiatorError {
    /// The handshake failed (wrong length, bad key, wrong PSK, no randomness).
    #[error(transparent)]
    Noise(#[from] NoiseError),
    /// A transport frame could not be sealed or opened.
    #[error(transparent)]
    Transport(#[from] CrypterError),
    /// The post-handshake message is invalid.
    #[error(transparent)]
    PostHandshake(#[from] PostHandshakeError),
    /// A decrypted message does not parse.
    #[error(transparent)]
    Message(#[from] MessageError),
}

/// Phone: waiting for the desktop's handshake message.
#[derive(Debug)]
pub struct ResponderAwaitingMsg1 {
    handshake: ResponderHandshake,
    post_handshake: PostHandshakeMessage,
}

/// Frames the phone sends once message 1 authenticated, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResponderGreeting {
    /// Noise message 2 (sent as is).
    pub msg2: [u8; HANDSHAKE_MSG_LEN],
    /// The encrypted post-handshake message.
    pub post_handshake: Vec<u8>,
}

impl ResponderAwaitingMsg1 {
    /// A QR session: `desktop_identity` is QR key 0; `post_handshake` is sent right after message 2.
    pub fn qr(
        desktop_identity: &PublicKey,
        psk: &Psk,
        post_handshake: PostHandshakeMessage,
    ) -> Result<Self, NoiseError> {
        Ok(Self::new(
            ResponderHandshake::qr(desktop_identity, psk)?,
            post_handshake,
        ))
    }

    /// A linked (state-assisted) session answered with the phone's identity key.
    pub fn state_assisted(
        identity: &PrivateKey,
        psk: &Psk,
        post_handshake: PostHandshakeMessage,
    ) -> Result<Self, NoiseError> {
        Ok(Self::new(
            ResponderHandshake::state_assisted(identity, psk)?,
            post_handshake,
        ))
    }

    /// From an already-built handshake (tests inject fixed ephemeral keys through it).
    pub fn new(handshake: ResponderHandshake, post_handshake: PostHandshakeMessage) -> Self {
        ResponderAwaitingMsg1 {
            handshake,
            post_handshake,
        }
    }

    /// Answers message 1: the frames to send and the established session.
    pub fn read_msg1(self, msg1: &[u8]) -> Result<(ResponderEstablished, ResponderGreeting), ResponderError> {
        let (msg2, mut crypter) = self.handshake.read_msg1(msg1)?;
        let post_handshake = crypter.encrypt(&self.post_handshake.to_bytes())?;
        Ok((
            ResponderEstablished { crypter },
            ResponderGreeting { msg2, post_handshake },
        ))
    }
}

/// Phone: handshake done and post-handshake message sent; an update message may follow before serving.
#[derive(Debug)]
pub struct ResponderEstablished {
    crypter: Crypter,
}

impl ResponderEstablished {
    /// The handshake hash (what a linking signature signs).
    pub fn handshake_hash(&self) -> &HandshakeHash {
        self.crypter.handshake_hash()
    }

    /// Starts serving, first sending `update` if given (QR sessions send a padding-only one); returns its
    /// encrypted frame.
    pub fn serve(
        mut self,
        update: Option<UpdateMessage>,
    ) -> Result<(ResponderServing, Option<Vec<u8>>), ResponderError> {
        let frame = update
            .map(|u| self.crypter.encrypt(&AuthenticatorMessage::Update(u).to_bytes()))
            .transpose()?;
        Ok((
            ResponderServing {
                crypter: self.crypter,
            },
            frame,
        ))
    }
}

/// Phone: answering the desktop's messages.
#[derive(Debug)]
pub struct ResponderServing {
    crypter: Crypter,
}

impl ResponderServing {
    /// The handshake hash (what a linking signature signs).
    pub fn handshake_hash(&self) -> &HandshakeHash {
        self.crypter.handshake_hash()
    }

    /// Decrypts and parses the desktop's next frame.
    pub fn receive(&mut self, frame: &[u8]) -> Result<ClientMessage, ResponderError> {
        Ok(ClientMessage::parse(&self.crypter.decrypt(frame)?)?)
    }

    /// Encrypts a message for the desktop.
    pub fn send(&mut self, message: &AuthenticatorMessage) -> Result<Vec<u8>, ResponderError> {
        Ok(self.crypter.encrypt(&message.to_bytes())?)
    }
}

/// Desktop: message 1 sent, waiting for message 2.
#[derive(Debug)]
pub struct InitiatorAwaitingMsg2 {
    handshake: InitiatorHandshake,
}

impl InitiatorAwaitingMsg2 {
    /// A QR session with the QR identity key: returns the state and message 1.
    pub fn qr(identity: &PrivateKey, psk: &Psk) -> Result<(Self, [u8; HANDSHAKE_MSG_LEN]), NoiseError> {
        let (handshake, msg1) = InitiatorHandshake::qr(identity, psk)?;
        Ok((InitiatorAwaitingMsg2 { handshake }, msg1))
    }

    /// A linked session with the phone's identity key (linking key 4): returns the state and message 1.
    pub fn state_assisted(
        phone_identity: &PublicKey,
        psk: &Psk,
    ) -> Result<(Self, [u8; HANDSHAKE_MSG_LEN]), NoiseError> {
        let (handshake, msg1) = InitiatorHandshake::state_assisted(phone_identity, psk)?;
        Ok((InitiatorAwaitingMsg2 { handshake }, msg1))
    }

    /// From an already-started handshake (tests inject fixed ephemeral keys through it).
    pub fn new(handshake: InitiatorHandshake) -> Self {
        InitiatorAwaitingMsg2 { handshake }
    }

    /// Processes message 2.
    pub fn read_msg2(self, msg2: &[u8]) -> Result<InitiatorAwaitingPostHandshake, InitiatorError> {
        Ok(InitiatorAwaitingPostHandshake {
            crypter: self.handshake.read_msg2(msg2)?,
        })
    }
}

/// Desktop: handshake done, waiting for the post-handshake message.
#[derive(Debug)]
pub struct InitiatorAwaitingPostHandshake {
    crypter: Crypter,
}

impl InitiatorAwaitingPostHandshake {
    /// Decrypts and parses the post-handshake message.
    pub fn read_post_handshake(
        mut self,
        frame: &[u8],
    ) -> Result<(InitiatorServing, PostHandshakeMessage), InitiatorError> {
        let message = PostHandshakeMessage::parse(&self.crypter.decrypt(frame)?)?;
        Ok((
            InitiatorServing {
                crypter: self.crypter,
            },
            message,
        ))
    }
}

/// Desktop: sending requests and reading the phone's messages.
#[derive(Debug)]
pub struct InitiatorServing {
    crypter: Crypter,
}

impl InitiatorServing {
    /// The handshake hash (what the phone's linking signature signs).
    pub fn handshake_hash(&self) -> &HandshakeHash {
        self.crypter.handshake_hash()
    }

    /// Encrypts a message for the phone.
    pub fn send(&mut self, message: &ClientMessage) -> Result<Vec<u8>, InitiatorError> {
        Ok(self.crypter.encrypt(&message.to_bytes())?)
    }

    /// Decrypts and parses the phone's next frame.
    pub fn receive(&mut self, frame: &[u8]) -> Result<AuthenticatorMessage, InitiatorError> {
        Ok(AuthenticatorMessage::parse(&self.crypter.decrypt(frame)?)?)
    }

    /// Encrypts arbitrary plaintext as one frame, whether or not it is a valid message: how a test peer
    /// sends the phone what no real desktop would. Only with the `fault-injection` feature.
    #[cfg(feature = "fault-injection")]
    pub fn seal_plaintext(&mut self, plaintext: &[u8]) -> Result<Vec<u8>, CrypterError> {
        self.crypter.encrypt(plaintext)
    }

    /// Encrypts `padded` without transport padding (see [`Crypter::encrypt_unpadded`]). Only with the
    /// `fault-injection` feature.
    #[cfg(feature = "fault-injection")]
    pub fn seal_unpadded(&mut self, padded: &[u8]) -> Result<Vec<u8>, CrypterError> {
        self.crypter.encrypt_unpadded(padded)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::DomainId;
    use crate::eid::EidPlaintext;
    use crate::ids::RoutingId;
    use crate::messages::{CtapRequest, CtapResponse};
    use crate::secrets::QrSecret;

    struct Qr {
        desktop: PrivateKey,
        psk: Psk,
    }

    fn qr() -> Qr {
        let secret = QrSecret::generate().unwrap();
        let eid = EidPlaintext::generate(&RoutingId::from_bytes([1, 2, 3]), DomainId::GOOGLE).unwrap();
        Qr {
            desktop: PrivateKey::generate().unwrap(),
            psk: secret.psk(&eid),
        }
    }

    fn phone(q: &Qr) -> ResponderAwaitingMsg1 {
        ResponderAwaitingMsg1::qr(
            &q.desktop.public_key(),
            &q.psk,
            PostHandshakeMessage::ctap(vec![0xa0]),
        )
        .unwrap()
    }

    #[test]
    fn qr_session_in_memory() {
        let q = qr();
        let (desktop, msg1) = InitiatorAwaitingMsg2::qr(&q.desktop, &q.psk).unwrap();
        let (established, greeting) = phone(&q).read_msg1(&msg1).unwrap();
        let desktop = desktop.read_msg2(&greeting.msg2).unwrap();
        let (mut desktop, post) = desktop.read_post_handshake(&greeting.post_handshake).unwrap();
        assert_eq!(post.get_info(), Some(&[0xa0][..]));
        assert_eq!(desktop.handshake_hash(), established.handshake_hash());

        let (mut phone, update) = established.serve(Some(UpdateMessage::default())).unwrap();
        assert_eq!(
            desktop.receive(&update.unwrap()).unwrap(),
            AuthenticatorMessage::Update(UpdateMessage::default())
        );
        let request = ClientMessage::Ctap(CtapRequest {
            command: 4,
            params: vec![],
        });
        assert_eq!(phone.receive(&desktop.send(&request).unwrap()).unwrap(), request);
        let response = AuthenticatorMessage::Ctap(CtapResponse::success(vec![0xa0]));
        assert_eq!(
            desktop.receive(&phone.send(&response).unwrap()).unwrap(),
            response
        );
        assert_eq!(
            phone
                .receive(&desktop.send(&ClientMessage::Shutdown).unwrap())
                .unwrap(),
            ClientMessage::Shutdown
        );
    }

    #[test]
    fn linked_session_in_memory() {
        let q = qr();
        let identity = PrivateKey::generate().unwrap();
        let (desktop, msg1) = InitiatorAwaitingMsg2::state_assisted(&identity.public_key(), &q.psk).unwrap();
        let phone =
            ResponderAwaitingMsg1::state_assisted(&identity, &q.psk, PostHandshakeMessage::ctap(vec![0xa0]))
                .unwrap();
        let (established, greeting) = phone.read_msg1(&msg1).unwrap();
        let (_, post) = desktop
            .read_msg2(&greeting.msg2)
            .unwrap()
            .read_post_handshake(&greeting.post_handshake)
            .unwrap();
        assert!(post.get_info().is_some());
        let (_, update) = established.serve(None).unwrap();
        assert!(update.is_none());
    }

    #[test]
    fn bad_msg1() {
        let q = qr();
        assert_eq!(
            phone(&q).read_msg1(&[0; 80]).err(),
            Some(ResponderError::Noise(NoiseError::Length(80)))
        );
        // Right shape, wrong PSK.
        let other = qr();
        let (_, msg1) = InitiatorAwaitingMsg2::qr(&q.desktop, &other.psk).unwrap();
        assert_eq!(
            phone(&q).read_msg1(&msg1).err(),
            Some(ResponderError::Noise(NoiseError::Decrypt))
        );
    }

    #[test]
    fn bad_msg2() {
        let q = qr();
        let (desktop, msg1) = InitiatorAwaitingMsg2::qr(&q.desktop, &q.psk).unwrap();
        let (_, greeting) = phone(&q).read_msg1(&msg1).unwrap();
        let mut msg2 = greeting.msg2;
        msg2[80] ^= 1;
        assert_eq!(
            desktop.read_msg2(&msg2).err(),
            Some(InitiatorError::Noise(NoiseError::Decrypt))
        );
    }

    fn connected(
        q: &Qr,
    ) -> (
        InitiatorAwaitingPostHandshake,
        ResponderEstablished,
        ResponderGreeting,
    ) {
        let (desktop, msg1) = InitiatorAwaitingMsg2::qr(&q.desktop, &q.psk).unwrap();
        let (established, greeting) = phone(q).read_msg1(&msg1).unwrap();
        (desktop.read_msg2(&greeting.msg2).unwrap(), established, greeting)
    }

    #[test]
    fn bad_post_handshake() {
        let q = qr();
        let (desktop, _, mut greeting) = connected(&q);
        greeting.post_handshake[0] ^= 1;
        assert_eq!(
            desktop.read_post_handshake(&greeting.post_handshake).err(),
            Some(InitiatorError::Transport(CrypterError::Decrypt))
        );
    }

    #[test]
    fn bad_frames_while_serving() {
        let q = qr();
        let (desktop, established, greeting) = connected(&q);
        let (mut desktop, _) = desktop.read_post_handshake(&greeting.post_handshake).unwrap();
        let (mut phone, _) = established.serve(None).unwrap();
        assert_eq!(
            phone.receive(&[0; 24]).err(),
            Some(ResponderError::Transport(CrypterError::Decrypt))
        );
        // A frame that decrypts to a message type nobody knows.
        let frame = desktop.crypter.encrypt(&[9]).unwrap();
        assert_eq!(
            phone.receive(&frame).err(),
            Some(ResponderError::Message(MessageError::UnknownType(9)))
        );
        // The phone never sends shutdown; a desktop refuses one.
        let frame = phone.crypter.encrypt(&[0]).unwrap();
        assert_eq!(
            desktop.receive(&frame).err(),
            Some(InitiatorError::Message(MessageError::ShutdownFromAuthenticator))
        );
    }

    #[test]
    fn garbage_post_handshake_plaintext() {
        let q = qr();
        // A phone whose first frame is not a CBOR map: built from the bare handshake.
        let (desktop, msg1) = InitiatorAwaitingMsg2::qr(&q.desktop, &q.psk).unwrap();
        let responder = ResponderHandshake::qr(&q.desktop.public_key(), &q.psk).unwrap();
        let (msg2, mut crypter) = responder.read_msg1(&msg1).unwrap();
        let desktop = desktop.read_msg2(&msg2).unwrap();
        let frame = crypter.encrypt(&[0x01]).unwrap();
        assert_eq!(
            desktop.read_post_handshake(&frame).err(),
            Some(InitiatorError::PostHandshake(PostHandshakeError::NotMap))
        );
    }
}
