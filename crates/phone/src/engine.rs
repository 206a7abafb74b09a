//! The CTAP engine edge: what the driver needs from an authenticator.
//!
//! A trait (rather than the concrete engine) keeps the driver usable with any engine behind the bindings;
//! `tandem_engine::Authenticator` implements it. Both calls may block (user verification), so the driver
//! calls [`CtapEngine::handle_ctap`] on tokio's blocking pool.

/// An authenticator engine answering raw CTAP2 messages.
pub trait CtapEngine: Send + Sync + 'static {
    /// The authenticatorGetInfo response CBOR (no status byte), for the post-handshake message.
    fn get_info(&self) -> Vec<u8>;
    /// Answers one CTAP message (command byte ‖ CBOR) with status byte ‖ CBOR, plus the typed error
    /// behind a failure. May block on the user. Once `cancel` is raised (the driver stopped waiting), a late
    /// approval must store and sign nothing.
    fn handle_ctap(&self, request: &[u8], cancel: &tandem_engine::Cancellation) -> tandem_engine::CtapAnswer;
}

impl CtapEngine for tandem_engine::Authenticator {
    fn get_info(&self) -> Vec<u8> {
        self.get_info_cbor()
    }

    fn handle_ctap(&self, request: &[u8], cancel: &tandem_engine::Cancellation) -> tandem_engine::CtapAnswer {
        self.answer_ctap(request, cancel)
    }
}
