//! uniffi bindings of the Tandem core for Kotlin and Swift.
