//! Bindings generated from `wit/connector@0.1.0`. Private: authors use the
//! re-exported types and the wrappers of this crate.
#![allow(missing_docs, unsafe_code, clippy::all)]

wit_bindgen::generate!({
    path: "../wit/connector@0.1.0",
    world: "plugin",
    pub_export_macro: true,
    default_bindings_module: "guichet_sdk::__private::bindings",
    additional_derives: [Clone, PartialEq],
});
