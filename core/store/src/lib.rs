//! SQLite credential store with private keys encrypted at rest.
