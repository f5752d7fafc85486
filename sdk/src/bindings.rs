//! Bindings generated from `wit/connector@0.1.0`, the crate's own copy of
//! the repository's `wit/connector@0.1.0` (kept identical by the test
//! `vendor_kit::the_sdk_carries_the_wit_it_binds`). Private: authors use the
//! re-exported types and the wrappers of this crate.
#![allow(missing_docs, unsafe_code, clippy::all)]

wit_bindgen::generate!({
    path: "wit/connector@0.1.0",
    world: "plugin",
    pub_export_macro: true,
    default_bindings_module: "guichet_sdk::__private::bindings",
    additional_derives: [Clone, PartialEq],
});
