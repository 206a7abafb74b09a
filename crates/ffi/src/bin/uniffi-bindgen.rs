//! uniffi's binding generator, built from this workspace so its version always matches the `uniffi` the library
//! was built with (a mismatch produces bindings that fail their checksum at load time).
//!
//! Run through `scripts/platform/gen-bindings.sh`, which builds the library first.

fn main() {
    uniffi::uniffi_bindgen_main()
}
