//! Hybrid transport (caBLE v2) protocol layers, authenticator and client roles: pure, no I/O.
