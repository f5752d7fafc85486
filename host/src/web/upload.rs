//! A posted multipart form of the pages (a reply with its file, an
//! agent's action with its attachment): its texts and at most one file,
//! read by [`read`]. Its CSRF token is checked by the handler, once the
//! form is read (the token comes first in the form: a file too large still
//! leaves it).
//!
//! `axum`'s `Multipart` (multer) parses the body; a file past the server's
//! upload limit is noted ([`Form::too_large`]), not an error of the whole
//! form, so that the page can say so beside its field.

use axum::extract::multipart::{Multipart, MultipartRejection};
use axum::http::StatusCode;
use axum::response::Response;
use guichet_core::validation::FILE_PART;

use super::session::{Csrf, Refusal};
use super::{CSRF_FIELD, Site, message, refusal};

/// A multipart form, as sent.
#[derive(Debug, Default)]
pub struct Form {
    /// Its CSRF token.
    pub csrf: Option<String>,
    /// Its text parts, by name, in order.
    pub texts: Vec<(String, String)>,
    /// The file's declared name and content, when one was chosen (part
    /// `file`).
    pub file: Option<(String, axum::body::Bytes)>,
    /// The file could not be read whole (past the server's upload limit).
    pub too_large: bool,
}

impl Form {
    /// The text of part `name`, empty when absent.
    pub fn text(&self, name: &str) -> String {
        self.texts
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, text)| text.clone())
            .unwrap_or_default()
    }

    /// Whether part `name` was sent (a checked box).
    pub fn has(&self, name: &str) -> bool {
        self.texts.iter().any(|(n, _)| n == name)
    }
}

/// Why a form is not read at all.
#[derive(Debug)]
pub enum Unread {
    /// Not a multipart form, or a broken one.
    Malformed,
    /// A part's name or text holds a control character (the part's name).
    Control(String),
}

/// Reads a multipart form: its CSRF token, its texts, and at most one
/// file (part `file`; a file input left empty counts as none).
///
/// # Errors
/// [`Unread`] when the body is not a readable multipart form or holds a
/// control character.
pub async fn read(multipart: Result<Multipart, MultipartRejection>) -> Result<Form, Unread> {
    let mut multipart = multipart.map_err(|_| Unread::Malformed)?;
    let mut form = Form::default();
    let forbidden = |text: &str| text.chars().any(crate::http::extract::is_forbidden_char);
    loop {
        let field = match multipart.next_field().await {
            Ok(Some(field)) => field,
            Ok(None) => return Ok(form),
            Err(error) if error.status() == StatusCode::PAYLOAD_TOO_LARGE => {
                form.too_large = true;
                return Ok(form);
            }
            Err(_) => return Err(Unread::Malformed),
        };
        let name = field.name().unwrap_or_default().to_owned();
        if forbidden(&name) {
            return Err(Unread::Control(name));
        }
        if name == FILE_PART {
            let declared = field.file_name().unwrap_or_default().to_owned();
            if forbidden(&declared) {
                return Err(Unread::Control("fichier".to_owned()));
            }
            let content = match field.bytes().await {
                Ok(content) => content,
                Err(error) if error.status() == StatusCode::PAYLOAD_TOO_LARGE => {
                    form.too_large = true;
                    return Ok(form);
                }
                Err(_) => return Err(Unread::Malformed),
            };
            // A file input left empty still sends its part, without name
            // or content.
            if !(declared.is_empty() && content.is_empty()) {
                form.file = Some((declared, content));
            }
        } else {
            let text = field.text().await.map_err(|_| Unread::Malformed)?;
            if forbidden(&text) {
                return Err(Unread::Control(name));
            }
            if name == CSRF_FIELD {
                form.csrf = Some(text);
            } else {
                form.texts.push((name, text));
            }
        }
    }
}

/// Reads a multipart form ([`read`]) and checks its CSRF token; a form
/// not read or not from this site is answered with a page saying why.
/// `what` names what could not be read and where to go back, as a French
/// sentence's start (« Votre réponse n'a pas pu être lue. Revenez à la
/// page de votre demande »).
///
/// # Errors
/// The page refusing the form: 400 for a broken form, 422 for a control
/// character, 403 for a missing or wrong token.
pub async fn checked(
    site: &Site,
    csrf: &Csrf,
    multipart: Result<Multipart, MultipartRejection>,
    what: &str,
) -> Result<Form, Response> {
    let form = match read(multipart).await {
        Ok(form) => form,
        Err(Unread::Control(field)) => return Err(refusal(site, Refusal::Control(field))),
        Err(Unread::Malformed) => {
            return Err(message(
                site,
                StatusCode::BAD_REQUEST,
                "Formulaire illisible",
                &format!("{what}, rechargez-la, puis recommencez."),
            ));
        }
    };
    // The token comes first in the form: a file too large still leaves it.
    if csrf.check(form.csrf.as_deref()) {
        Ok(form)
    } else {
        Err(refusal(site, Refusal::Csrf))
    }
}
