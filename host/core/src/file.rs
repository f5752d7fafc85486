//! Attachments: the three accepted media types, recognised by their content.
//!
//! The law asks for documents in a non-modifiable format, so Guichet accepts
//! PDF, JPEG and PNG only. The type is decided by the first bytes of the file
//! ([`sniff_media_type`]), never by its name or by the type a browser declares:
//! a PNG renamed `facture.pdf` is a PNG, an executable renamed `facture.pdf` is
//! refused. The upload check itself, which also applies the field's size cap,
//! is [`crate::validation::check_upload`].

use crate::id::FileId;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// A media type Guichet accepts for attachments.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum MediaType {
    /// `application/pdf`
    Pdf,
    /// `image/jpeg`
    Jpeg,
    /// `image/png`
    Png,
}

impl MediaType {
    /// Every accepted media type, the default of a file field.
    pub const ALL: [MediaType; 3] = [MediaType::Pdf, MediaType::Jpeg, MediaType::Png];

    /// The MIME type, for `Content-Type` headers.
    pub fn mime(self) -> &'static str {
        match self {
            MediaType::Pdf => "application/pdf",
            MediaType::Jpeg => "image/jpeg",
            MediaType::Png => "image/png",
        }
    }

    /// The file extension that matches the content (without the dot).
    pub fn extension(self) -> &'static str {
        match self {
            MediaType::Pdf => "pdf",
            MediaType::Jpeg => "jpg",
            MediaType::Png => "png",
        }
    }

    /// The name shown to people (`PDF`, `JPEG`, `PNG`).
    pub fn label(self) -> &'static str {
        match self {
            MediaType::Pdf => "PDF",
            MediaType::Jpeg => "JPEG",
            MediaType::Png => "PNG",
        }
    }
}

/// Recognises a PDF, JPEG or PNG file by its magic bytes.
///
/// Returns `None` for anything else, including an empty file.
pub fn sniff_media_type(content: &[u8]) -> Option<MediaType> {
    const PDF: &[u8] = b"%PDF-";
    const JPEG: &[u8] = &[0xFF, 0xD8, 0xFF];
    const PNG: &[u8] = &[0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A];
    if content.starts_with(PDF) {
        Some(MediaType::Pdf)
    } else if content.starts_with(JPEG) {
        Some(MediaType::Jpeg)
    } else if content.starts_with(PNG) {
        Some(MediaType::Png)
    } else {
        None
    }
}

/// A file attached to a demande or to a history entry.
///
/// Only the upload check produces the `media_type` and `size`; the store keeps
/// the bytes under `id`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct FileRef {
    /// Where the store keeps the content.
    pub id: FileId,
    /// The name shown to people, with the extension of the real content
    /// (see [`display_name`]).
    pub name: String,
    /// The type found in the content.
    pub media_type: MediaType,
    /// Size in bytes.
    pub size: u64,
}

/// The name to show for an uploaded file: the declared name without any path,
/// control characters or extension, followed by the extension of the real
/// content (`scan.pdf` holding a PNG is shown as `scan.png`).
pub fn display_name(declared: &str, media_type: MediaType) -> String {
    let base = declared.rsplit(['/', '\\']).next().unwrap_or_default();
    let stem = match base.rsplit_once('.') {
        Some((stem, _)) => stem,
        None => base,
    };
    let clean: String = stem
        .chars()
        .filter(|c| !c.is_control())
        .take(100)
        .collect::<String>()
        .trim()
        .to_owned();
    let stem = if clean.is_empty() {
        "piece-jointe".to_owned()
    } else {
        clean
    };
    format!("{stem}.{}", media_type.extension())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_three_formats_are_recognised_by_content() {
        let cases: [(&[u8], Option<MediaType>); 6] = [
            (b"%PDF-1.7\n%\xE2\xE3", Some(MediaType::Pdf)),
            (&[0xFF, 0xD8, 0xFF, 0xE0, 0, 0x10], Some(MediaType::Jpeg)),
            (b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR", Some(MediaType::Png)),
            (b"MZ\x90\0\x03\0\0\0", None),
            (b"GIF89a", None),
            (b"", None),
        ];
        for (content, expected) in cases {
            assert_eq!(sniff_media_type(content), expected, "{content:?}");
        }
    }

    #[test]
    fn display_name_follows_the_content_not_the_declared_extension() {
        assert_eq!(display_name("scan.pdf", MediaType::Png), "scan.png");
        assert_eq!(
            display_name("C:\\Users\\moi\\facture.PDF", MediaType::Pdf),
            "facture.pdf"
        );
        assert_eq!(
            display_name("../../etc/passwd", MediaType::Jpeg),
            "passwd.jpg"
        );
        assert_eq!(display_name("", MediaType::Pdf), "piece-jointe.pdf");
        assert_eq!(display_name(".pdf", MediaType::Pdf), "piece-jointe.pdf");
    }
}
