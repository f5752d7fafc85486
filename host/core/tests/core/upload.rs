//! Files are checked by their content, never by their name.

use guichet_core::file::MediaType;
use guichet_core::validation::{ErrorCode, check_upload};

use crate::support::example;

const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01";
const PDF: &[u8] = b"%PDF-1.7\n1 0 obj\n";
const EXE: &[u8] = b"MZ\x90\0\x03\0\0\0\x04\0\0\0\xff\xff";

fn facture_field() -> guichet_core::field::Field {
    example("aide-reparation-velo")
        .field(&"facture".into())
        .unwrap()
        .clone()
}

#[test]
fn renamed_exe_is_not_a_pdf() {
    let error = check_upload(&facture_field(), EXE).unwrap_err();
    assert_eq!(error.code, ErrorCode::TypeFichier);
    assert_eq!(
        error.message,
        "Joignez un fichier au format PDF, JPEG, PNG."
    );
}

#[test]
fn a_png_renamed_pdf_is_accepted_as_a_png() {
    assert_eq!(check_upload(&facture_field(), PNG), Ok(MediaType::Png));
    assert_eq!(
        guichet_core::file::display_name("facture.pdf", MediaType::Png),
        "facture.png"
    );
    assert_eq!(check_upload(&facture_field(), PDF), Ok(MediaType::Pdf));
}

#[test]
fn an_oversized_upload_is_refused() {
    let mut big = PDF.to_vec();
    big.resize(10 * 1024 * 1024 + 1, b' ');
    assert_eq!(
        check_upload(&facture_field(), &big).unwrap_err().code,
        ErrorCode::FichierTropGros
    );
    big.truncate(10 * 1024 * 1024);
    assert_eq!(check_upload(&facture_field(), &big), Ok(MediaType::Pdf));
}

#[test]
fn an_upload_to_a_field_without_files_is_refused() {
    let field = example("aide-reparation-velo")
        .field(&"nom".into())
        .unwrap()
        .clone();
    assert_eq!(
        check_upload(&field, PDF).unwrap_err().code,
        ErrorCode::TypeInvalide
    );
}
