//! The collectivité's look on the portal: its colour and its logo, from
//! the configuration (`guichet serve --portal-colour`, `--logo-file`).
//!
//! The colour is the header's background under white text and the colour
//! of links and buttons on white: it must reach a contrast ratio of 4.5:1
//! with white (WCAG 2.1 success criterion 1.4.3, RGAA 4.1 criterion 3.2),
//! computed with WCAG 2.1's relative luminance; a colour below is refused
//! when the host starts, with the ratio it gives. The logo is a PNG or a
//! JPEG, recognised by its content (`guichet_core::file::sniff_media_type`,
//! as uploads are): an SVG could carry a script, so it is refused. Both
//! are served from `/static/theme.css` and `/static/logo`, which keeps the
//! pages' Content-Security-Policy free of inline styles.

use guichet_core::file::{MediaType, sniff_media_type};

/// The default colour: a dark blue, 8.4:1 on white.
pub const DEFAULT_COLOUR: &str = "#1d4f91";

/// The least contrast ratio with white a colour must give.
pub const MIN_CONTRAST: f64 = 4.5;

/// The largest logo accepted, in bytes (200 KiB: a page stays light).
pub const MAX_LOGO_BYTES: usize = 200 * 1024;

/// A colour `#rrggbb`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Colour([u8; 3]);

impl Colour {
    /// Reads `#rrggbb` (any case).
    ///
    /// # Errors
    /// A French message for any other text.
    pub fn parse(text: &str) -> Result<Colour, String> {
        let hex = text
            .trim()
            .strip_prefix('#')
            .filter(|h| h.len() == 6 && h.chars().all(|c| c.is_ascii_hexdigit()))
            .ok_or_else(|| format!("« {text} » n'est pas une couleur de la forme #1d4f91"))?;
        let byte = |i: usize| u8::from_str_radix(&hex[i..i + 2], 16).unwrap_or_default();
        Ok(Colour([byte(0), byte(2), byte(4)]))
    }

    /// WCAG 2.1's relative luminance, 0 (black) to 1 (white).
    fn luminance(self) -> f64 {
        let channel = |value: u8| {
            let c = f64::from(value) / 255.0;
            if c <= 0.039_28 {
                c / 12.92
            } else {
                ((c + 0.055) / 1.055).powf(2.4)
            }
        };
        let [r, g, b] = self.0;
        0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b)
    }

    /// The contrast ratio of this colour with white, 1 to 21.
    pub fn contrast_with_white(self) -> f64 {
        1.05 / (self.luminance() + 0.05)
    }

    /// `#rrggbb`, lowercase.
    pub fn css(self) -> String {
        let [r, g, b] = self.0;
        format!("#{r:02x}{g:02x}{b:02x}")
    }
}

/// The portal's look.
#[derive(Debug, Clone)]
pub struct Look {
    /// The main colour.
    pub colour: Colour,
    /// The logo and its type, if any.
    pub logo: Option<(Vec<u8>, MediaType)>,
}

impl Default for Look {
    fn default() -> Self {
        Look {
            colour: Colour::parse(DEFAULT_COLOUR).unwrap_or(Colour([0x1d, 0x4f, 0x91])),
            logo: None,
        }
    }
}

impl Look {
    /// The look of `colour` (`#rrggbb`) and `logo` (a PNG or JPEG file's
    /// content).
    ///
    /// # Errors
    /// A French message: a colour unreadable or under [`MIN_CONTRAST`]
    /// with white; a logo that is neither PNG nor JPEG, or over
    /// [`MAX_LOGO_BYTES`].
    pub fn new(colour: Option<&str>, logo: Option<Vec<u8>>) -> Result<Look, String> {
        let colour = match colour {
            Some(text) => Colour::parse(text)?,
            None => Look::default().colour,
        };
        let ratio = colour.contrast_with_white();
        if ratio < MIN_CONTRAST {
            return Err(format!(
                "la couleur {} donne un contraste de {} avec le blanc : il faut au moins 4,5:1 pour que les textes restent lisibles (RGAA 3.2, WCAG 1.4.3) ; choisissez une couleur plus foncée",
                colour.css(),
                format!("{ratio:.1}:1").replace('.', ",")
            ));
        }
        let logo = match logo {
            None => None,
            Some(bytes) if bytes.len() > MAX_LOGO_BYTES => {
                return Err(format!(
                    "le logo pèse {} Ko : 200 Ko au plus",
                    bytes.len() / 1024
                ));
            }
            Some(bytes) => match sniff_media_type(&bytes) {
                Some(kind @ (MediaType::Png | MediaType::Jpeg)) => Some((bytes, kind)),
                _ => return Err("le logo doit être une image PNG ou JPEG".to_owned()),
            },
        };
        Ok(Look { colour, logo })
    }

    /// The stylesheet that sets the colour over `portal.css`.
    pub fn theme_css(&self) -> String {
        format!(":root {{ --primary: {}; }}\n", self.colour.css())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn contrast_follows_wcag() {
        // Reference values: black on white 21:1, white on white 1:1,
        // #767676 on white 4.54:1 (the lightest grey that passes AA).
        let ratio = |c: &str| Colour::parse(c).expect("a colour").contrast_with_white();
        assert!((ratio("#000000") - 21.0).abs() < 0.01);
        assert!((ratio("#FFFFFF") - 1.0).abs() < 0.01);
        assert!((ratio("#767676") - 4.54).abs() < 0.01);
        assert!(ratio(DEFAULT_COLOUR) >= MIN_CONTRAST);
    }

    #[test]
    fn a_light_colour_a_bad_text_and_an_svg_logo_are_refused() {
        let error = Look::new(Some("#ffcc00"), None).expect_err("too light");
        assert!(error.contains("1,5:1"), "{error}");
        assert!(Look::new(Some("bleu"), None).is_err());
        assert!(Look::new(Some("#12345"), None).is_err());
        let svg =
            b"<svg xmlns='http://www.w3.org/2000/svg'><script>alert(1)</script></svg>".to_vec();
        assert!(Look::new(None, Some(svg)).is_err());
        let look = Look::new(Some("#00665E"), None).expect("dark enough");
        assert_eq!(look.theme_css(), ":root { --primary: #00665e; }\n");
    }
}
