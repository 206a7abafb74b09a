//! The CTAP2 codec: typed requests decoded strictly, typed responses encoded canonically.

pub mod request;
pub mod response;

pub use request::*;
pub use response::*;
