//! Content of the files attached to the demande of the current call.

use crate::{AttachmentRef, Error};

/// Reads a whole attachment.
///
/// # Errors
/// [`Error::Other`] when the host cannot provide the file (unknown id, storage error).
pub fn read(attachment: &AttachmentRef) -> Result<Vec<u8>, Error> {
    imp::read(&attachment.id).map_err(|why| {
        Error::Other(format!(
            "pièce jointe « {} » illisible : {why}",
            attachment.filename
        ))
    })
}

#[cfg(target_arch = "wasm32")]
mod imp {
    pub fn read(id: &str) -> Result<Vec<u8>, String> {
        crate::bindings::guichet::connector::attachments::read(id)
    }
}

#[cfg(not(target_arch = "wasm32"))]
mod imp {
    pub fn read(id: &str) -> Result<Vec<u8>, String> {
        crate::testing::attachment(id)
    }
}
