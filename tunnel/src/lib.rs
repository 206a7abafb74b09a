//! Self-hostable hybrid tunnel server (WebSocket relay, /cable/new and /cable/connect).
