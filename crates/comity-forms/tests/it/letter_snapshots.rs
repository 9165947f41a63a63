//! The whole HTML letter in each language, compared with a snapshot kept in
//! `snapshots/`: every wording or layout change shows up in review as a changed line.
//!
//! After an intended change, `UPDATE_EXPECT=1 cargo test -p comity-forms` rewrites the
//! snapshots; read the diff before committing it.

use comity_forms::Language;
use expect_test::expect_file;

use crate::render;

/// Elements that start on a line of their own in a snapshot.
const BLOCK_ELEMENTS: &[&str] = &[
    "html", "head", "meta", "title", "style", "body", "header", "aside", "main", "section", "h1",
    "h2", "h3", "p", "ul", "li", "dl", "dt", "dd", "div", "table", "thead", "tbody", "tr",
];

/// Containers whose closing tag also gets a line of its own.
const CLOSED_ON_OWN_LINE: &[&str] = &[
    "html", "head", "body", "header", "aside", "main", "section", "ul", "dl", "table", "thead",
    "tbody", "tr",
];

/// The letter with a line break before each block element's opening tag and each
/// container's closing tag. The renderer writes the document on one line; breaking it only
/// between two tags (`>` then `<`) changes no text, and makes the snapshot readable.
fn one_block_per_line(html: &str) -> String {
    let mut out = String::with_capacity(html.len() + html.len() / 16);
    let mut rest = html;
    while let Some(position) = rest.find("><") {
        let (before, after) = rest.split_at(position + 1);
        out.push_str(before);
        if starts_block(after) {
            out.push('\n');
        }
        rest = after;
    }
    out.push_str(rest);
    out.push('\n');
    out
}

/// Whether `tag_onwards` (which starts with `<`) opens a block element or closes a container.
fn starts_block(tag_onwards: &str) -> bool {
    let name_of = |text: &str| -> String {
        text.chars()
            .take_while(|c| c.is_ascii_alphanumeric())
            .collect()
    };
    match tag_onwards.strip_prefix("</") {
        Some(closing) => CLOSED_ON_OWN_LINE.contains(&name_of(closing).as_str()),
        None => {
            let opening = tag_onwards.strip_prefix('<').unwrap_or(tag_onwards);
            BLOCK_ELEMENTS.contains(&name_of(opening).as_str())
        }
    }
}

#[test]
fn breaking_lines_changes_no_text() {
    let html = render("ES", "FR", Language::Fr);
    let broken = one_block_per_line(&html);
    assert!(broken.lines().count() > 100, "{broken}");
    // Only line breaks were added, and only between two tags.
    assert_eq!(broken.replace(">\n<", "><").trim_end(), html);
}

#[test]
fn english_letter_spain_to_the_united_kingdom() {
    let letter = one_block_per_line(&render("ES", "GB", Language::En));
    expect_file!["snapshots/letter-es-gb-en.html"].assert_eq(&letter);
}

#[test]
fn french_letter_spain_to_france() {
    let letter = one_block_per_line(&render("ES", "FR", Language::Fr));
    expect_file!["snapshots/letter-es-fr-fr.html"].assert_eq(&letter);
}

#[test]
fn spanish_letter_france_to_spain() {
    let letter = one_block_per_line(&render("FR", "ES", Language::Es));
    expect_file!["snapshots/letter-fr-es-es.html"].assert_eq(&letter);
}

#[test]
fn arabic_letter_spain_to_morocco() {
    let letter = one_block_per_line(&render("ES", "MA", Language::Ar));
    expect_file!["snapshots/letter-es-ma-ar.html"].assert_eq(&letter);
}

#[test]
fn every_language_of_the_forms_has_a_snapshot() {
    // A language added to the forms must get a snapshot test above.
    let covered = [Language::En, Language::Fr, Language::Es, Language::Ar];
    for language in Language::ALL {
        assert!(
            covered.contains(language),
            "{language} has no letter snapshot"
        );
    }
}
