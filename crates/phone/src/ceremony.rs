//! One user-verified ceremony per hybrid session.
//!
//! A session's [`CeremonySlot`] starts [`CeremonySlot::Open`] with a [`Ticket`]; the first makeCredential
//! or getAssertion consumes the ticket ([`Ticket::begin`]) whatever its outcome, so the slot is then
//! [`CeremonySlot::Spent`] and every later mc/ga is answered with CTAP2_ERR_OPERATION_DENIED without
//! reaching the engine (no second prompt, no second signature from one scan or wake). The only way to a
//! [`Completed`] witness is a ceremony that succeeded ([`InFlight::finish`] with status 0); linking
//! requires one, so a refused request followed by `selection` or `getInfo` never links.

/// CTAP command bytes that are ceremonies (user-verified operations with a signature).
const MAKE_CREDENTIAL: u8 = 0x01;
const GET_ASSERTION: u8 = 0x02;

/// Status a second ceremony is answered with: CTAP2_ERR_OPERATION_DENIED, which desktops (Chromium's
/// `CtapDeviceResponseCode::kCtap2ErrOperationDenied`) treat as the user declining and end the request on.
pub const SECOND_CEREMONY_STATUS: u8 = 0x27;

/// Whether a CTAP message (command ‖ CBOR) is a ceremony.
pub fn is_ceremony(request: &[u8]) -> bool {
    matches!(request.first(), Some(&MAKE_CREDENTIAL) | Some(&GET_ASSERTION))
}

/// The right to run this session's one ceremony. Not `Clone`, no public constructor besides
/// [`CeremonySlot::new`]: a session has exactly one.
#[derive(Debug)]
pub struct Ticket {
    _private: (),
}

/// A ceremony that was handed to the engine and has not answered yet.
#[derive(Debug)]
pub struct InFlight {
    _private: (),
}

/// Witness that this session's ceremony succeeded (status 0).
#[derive(Debug)]
pub struct Completed {
    _private: (),
}

impl Ticket {
    /// Spends the ticket on the request being sent to the engine.
    pub fn begin(self) -> InFlight {
        InFlight { _private: () }
    }
}

impl InFlight {
    /// The engine's answer: a [`Completed`] witness if the status is CTAP2_OK, `None` otherwise (the
    /// ticket is gone either way).
    pub fn finish(self, status: u8) -> Option<Completed> {
        (status == 0).then_some(Completed { _private: () })
    }
}

/// A session's ceremony state.
#[derive(Debug)]
pub enum CeremonySlot {
    /// No ceremony yet.
    Open(Ticket),
    /// The ceremony ran; `Some` when it succeeded.
    Spent(Option<Completed>),
}

impl CeremonySlot {
    /// A fresh session's slot.
    pub fn new() -> Self {
        CeremonySlot::Open(Ticket { _private: () })
    }

    /// Takes the ticket if the slot is open, leaving it spent (without success until
    /// [`CeremonySlot::record`]).
    pub fn take(&mut self) -> Option<Ticket> {
        match std::mem::replace(self, CeremonySlot::Spent(None)) {
            CeremonySlot::Open(ticket) => Some(ticket),
            spent => {
                *self = spent;
                None
            }
        }
    }

    /// Records the outcome of the ceremony the ticket was spent on.
    pub fn record(&mut self, outcome: Option<Completed>) {
        *self = CeremonySlot::Spent(outcome);
    }

    /// The success witness, if this session's ceremony succeeded.
    pub fn completed(&self) -> Option<&Completed> {
        match self {
            CeremonySlot::Spent(Some(c)) => Some(c),
            _ => None,
        }
    }
}

impl Default for CeremonySlot {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_ceremony_per_slot_and_only_success_completes() {
        let mut slot = CeremonySlot::new();
        assert!(slot.completed().is_none());
        let ticket = slot.take().expect("a fresh slot has a ticket");
        assert!(slot.take().is_none(), "taken once");
        slot.record(ticket.begin().finish(0x27));
        assert!(slot.completed().is_none(), "a refused ceremony completes nothing");
        assert!(slot.take().is_none(), "and spends the ticket");

        let mut slot = CeremonySlot::new();
        let done = slot.take().unwrap().begin().finish(0);
        slot.record(done);
        assert!(slot.completed().is_some());
        assert!(slot.take().is_none());
        assert!(is_ceremony(&[0x01, 0xa0]) && is_ceremony(&[0x02]));
        assert!(!is_ceremony(&[0x04]) && !is_ceremony(&[0x0b]) && !is_ceremony(&[]));
    }
}
