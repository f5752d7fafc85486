//! Where a problem of a definition lies in the text an administrator
//! typed: the line of a path such as `pages[1].fields[3].label` in a YAML
//! text, and the line a parser's message names (`… at line 4 column 7`).
//!
//! The checks of `guichet_core::demarche` speak in paths, which is what
//! the API answers; a person fixing a pasted text wants a line. The YAML
//! is read here line by line for its block structure only (keys at an
//! indentation, `- ` items), which is how definitions are written; inside
//! a flow collection (`{ value: a, label: A }`) the line of the deepest
//! part found is given. This never decides whether a text is valid: the
//! core does.

/// One part of a path: a key, or an index in a list.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Segment<'a> {
    Key(&'a str),
    Index(usize),
}

/// The parts of `pages[1].fields[3].label`.
fn segments(path: &str) -> Vec<Segment<'_>> {
    let mut parts = Vec::new();
    for dotted in path.split('.').filter(|p| !p.is_empty()) {
        let (key, mut rest) = match dotted.find('[') {
            Some(at) => (&dotted[..at], &dotted[at..]),
            None => (dotted, ""),
        };
        if !key.is_empty() {
            parts.push(Segment::Key(key));
        }
        while let Some(open) = rest.strip_prefix('[') {
            let Some(close) = open.find(']') else { break };
            if let Ok(index) = open[..close].parse() {
                parts.push(Segment::Index(index));
            }
            rest = &open[close + 1..];
        }
    }
    parts
}

/// A line that says something: its number (from 1), its indentation and
/// its text after it.
#[derive(Debug, Clone, Copy)]
struct Line<'a> {
    number: usize,
    indent: usize,
    text: &'a str,
}

/// The lines that say something: no blank line, comment or document mark.
fn lines(yaml: &str) -> Vec<Line<'_>> {
    yaml.lines()
        .enumerate()
        .filter_map(|(at, raw)| {
            let text = raw.trim_start_matches(' ');
            let trimmed = text.trim_end();
            if trimmed.is_empty()
                || trimmed.starts_with('#')
                || trimmed == "---"
                || trimmed == "..."
            {
                return None;
            }
            Some(Line {
                number: at + 1,
                indent: raw.len() - text.len(),
                text: trimmed,
            })
        })
        .collect()
}

/// Whether the line is the key `key` (plain or quoted) followed by `:`.
fn is_key(text: &str, key: &str) -> bool {
    [key.to_owned(), format!("\"{key}\""), format!("'{key}'")]
        .iter()
        .any(|written| {
            text.strip_prefix(written.as_str())
                .and_then(|rest| rest.strip_prefix(':'))
                .is_some_and(|rest| rest.is_empty() || rest.starts_with(' '))
        })
}

/// Whether the line is an item of a list (`- …` or a lone `-`).
fn is_item(text: &str) -> bool {
    text == "-" || text.starts_with("- ")
}

/// The lines under the line at `at` of `block`: those more indented, and
/// the items of a list written at the same indentation as its key.
fn under<'a>(block: &[Line<'a>], at: usize) -> Vec<Line<'a>> {
    let indent = block[at].indent;
    block[at + 1..]
        .iter()
        .take_while(|line| line.indent > indent || (line.indent == indent && is_item(line.text)))
        .copied()
        .collect()
}

/// The line of `path` in the YAML text `yaml`: that of its deepest part
/// found; `None` when not even its first part is.
pub fn line_of(yaml: &str, path: &str) -> Option<usize> {
    let mut block = lines(yaml);
    let mut found = None;
    for segment in segments(path) {
        let Some(first) = block.first() else { break };
        let indent = first.indent;
        match segment {
            Segment::Key(key) => {
                let Some(at) = block
                    .iter()
                    .position(|line| line.indent == indent && is_key(line.text, key))
                else {
                    break;
                };
                found = Some(block[at].number);
                block = under(&block, at);
            }
            Segment::Index(index) => {
                let Some(at) = block
                    .iter()
                    .enumerate()
                    .filter(|(_, line)| line.indent == indent && is_item(line.text))
                    .map(|(at, _)| at)
                    .nth(index)
                else {
                    break;
                };
                let item = block[at];
                found = Some(item.number);
                // The item's content: what follows its `- ` on its line, at
                // the column it starts, then the lines under it.
                let rest = item.text[1..].trim_start_matches(' ');
                let mut content = Vec::new();
                if !rest.is_empty() {
                    content.push(Line {
                        number: item.number,
                        indent: item.indent + (item.text.len() - rest.len()),
                        text: rest,
                    });
                }
                content.extend(
                    block[at + 1..]
                        .iter()
                        .take_while(|line| line.indent > item.indent)
                        .copied(),
                );
                block = content;
            }
        }
    }
    found
}

/// The line a parser's message names (`… at line 4 column 7`, or the
/// core's French `(ligne 4, colonne 7)`).
pub fn line_in_message(message: &str) -> Option<usize> {
    ["at line ", "ligne "].iter().find_map(|mark| {
        let at = message.find(mark)? + mark.len();
        let digits: String = message[at..]
            .chars()
            .take_while(char::is_ascii_digit)
            .collect();
        digits.parse().ok()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const YAML: &str = "\
# A comment
slug: essai
title: Essai
presentation:
  intro: >-
    title: not a key here
  steps:
  - Première
  - Seconde
pages:
  - id: identite
    title: Vos coordonnées
    fields:
      - id: prenom
        kind: text
        label: Prénom

      - id: type
        kind: choice
        choices:
          - { value: a, label: A }
          - value: b
            label: B
";

    #[test]
    fn a_path_is_found_at_its_line_through_keys_and_items() {
        let table = [
            ("slug", Some(2)),
            ("title", Some(3)),
            ("presentation.steps[1]", Some(9)),
            ("pages[0]", Some(11)),
            ("pages[0].id", Some(11)),
            ("pages[0].title", Some(12)),
            ("pages[0].fields[0].label", Some(16)),
            ("pages[0].fields[1]", Some(18)),
            ("pages[0].fields[1].kind", Some(19)),
            ("pages[0].fields[1].choices[1].label", Some(23)),
        ];
        for (path, line) in table {
            assert_eq!(line_of(YAML, path), line, "{path}");
        }
    }

    #[test]
    fn the_deepest_part_found_is_given_when_the_rest_is_not_there() {
        // Inside a flow mapping: the item's line.
        assert_eq!(
            line_of(YAML, "pages[0].fields[1].choices[0].label"),
            Some(21)
        );
        // A key missing in a page: the page's line.
        assert_eq!(line_of(YAML, "pages[0].rgpd"), Some(11));
        assert_eq!(line_of(YAML, "pages[3]"), Some(10));
        assert_eq!(line_of(YAML, "rgpd.text"), None);
        assert_eq!(line_of(YAML, ""), None);
    }

    #[test]
    fn a_block_scalar_is_not_read_for_keys() {
        assert_eq!(line_of(YAML, "presentation.title"), Some(4));
    }

    #[test]
    fn quoted_keys_and_lists_under_their_key_are_read() {
        let yaml = "\"slug\": a\nkeywords:\n  - un\n  - deux\n";
        assert_eq!(line_of(yaml, "slug"), Some(1));
        assert_eq!(line_of(yaml, "keywords[1]"), Some(4));
    }

    #[test]
    fn a_parser_message_gives_its_line() {
        assert_eq!(
            line_in_message(
                "YAML invalide : mapping values are not allowed in this context at line 4 column 7"
            ),
            Some(4)
        );
        assert_eq!(
            line_in_message("propriété inconnue « titel » (ligne 12, colonne 3)"),
            Some(12)
        );
        assert_eq!(line_in_message("le titre est vide"), None);
    }
}
