//! The PDF letter: well-formed in every language, with Arabic shaped and laid out right
//! to left, Arabic names inside a Latin-script letter, text recoverable through the
//! ToUnicode map, and characters the embedded font cannot show refused.

use std::collections::HashMap;

use comity_forms::{FormError, Language, LetterInput, render_letter_pdf};

use crate::{assessment, date, sample_request};

fn render(from: &str, to: &str, language: Language, name: &str) -> Result<Vec<u8>, FormError> {
    let mut request = sample_request(from, to);
    request.persons[0].full_name = name.to_string();
    let assessment = assessment(&request);
    let input = LetterInput {
        content: &request,
        assessment: &assessment,
        case_reference: "DP 123/2026",
        request_id: "0190a4c2-7b1e-7000-8000-000000000001",
        date: date("2026-06-01"),
        requesting_authority_name: None,
        requested_authority_name: None,
        contact_officer: None,
    };
    render_letter_pdf(&input, language)
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack
        .windows(needle.len())
        .position(|window| window == needle)
}

fn rfind(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack
        .windows(needle.len())
        .rposition(|window| window == needle)
}

/// Checks the cross-reference table against the objects it points to.
fn assert_well_formed(pdf: &[u8]) {
    assert!(pdf.starts_with(b"%PDF-1.4\n"));
    assert!(pdf.ends_with(b"%%EOF\n"));
    let startxref = rfind(pdf, b"startxref\n").expect("startxref") + "startxref\n".len();
    let tail = String::from_utf8_lossy(&pdf[startxref..]);
    let xref: usize = tail
        .lines()
        .next()
        .and_then(|line| line.parse().ok())
        .expect("xref offset");
    assert!(pdf[xref..].starts_with(b"xref\n"));
    let table = String::from_utf8_lossy(&pdf[xref..]);
    let entries = table
        .lines()
        .skip(3)
        .take_while(|line| line.ends_with(" n "));
    let mut count = 0;
    for (index, entry) in entries.enumerate() {
        let offset: usize = entry[..10].parse().expect("offset");
        let header = format!("{} 0 obj", index + 1);
        assert!(
            pdf[offset..].starts_with(header.as_bytes()),
            "object {}",
            index + 1
        );
        count += 1;
    }
    assert!(count >= 11, "{count} objects");
    // Every stream's /Length is its real length.
    let mut at = 0;
    while let Some(found) = find(&pdf[at..], b"/Length ") {
        let start = at + found + "/Length ".len();
        let digits: String = pdf[start..]
            .iter()
            .take_while(|byte| byte.is_ascii_digit())
            .map(|&byte| char::from(byte))
            .collect();
        let length: usize = digits.parse().expect("length");
        let data = start + find(&pdf[start..], b"stream\n").expect("stream") + "stream\n".len();
        assert!(
            pdf[data + length..].starts_with(b"\nendstream"),
            "stream at {data}"
        );
        at = data + length;
    }
}

/// The text of each line of the PDF, recovered from the glyph ids of the content
/// streams through the ToUnicode map, in visual (left-to-right) glyph order.
fn lines(pdf: &[u8]) -> Vec<Vec<String>> {
    let cmap_start = find(pdf, b"beginbfchar").expect("ToUnicode map");
    let cmap_end = find(pdf, b"endcmap").expect("end of map");
    let cmap = String::from_utf8_lossy(&pdf[cmap_start..cmap_end]);
    let mut map: HashMap<u16, String> = HashMap::new();
    for line in cmap.lines() {
        let mut parts = line
            .split(['<', '>'])
            .filter(|part| !part.trim().is_empty());
        let (Some(glyph), Some(text)) = (parts.next(), parts.next()) else {
            continue;
        };
        let Ok(glyph) = u16::from_str_radix(glyph, 16) else {
            continue;
        };
        let units: Vec<u16> = (0..text.len() / 4)
            .map(|index| u16::from_str_radix(&text[4 * index..4 * index + 4], 16).expect("hex"))
            .collect();
        map.insert(glyph, String::from_utf16(&units).expect("utf-16"));
    }
    // The page contents follow the map.
    let content = String::from_utf8_lossy(&pdf[cmap_end..]);
    content
        .split("BT ")
        .skip(1)
        .map(|text| {
            let text = text.split(" ET").next().unwrap_or("");
            text.split('<')
                .skip(1)
                .filter_map(|part| {
                    let hex = part.get(..4)?;
                    let glyph = u16::from_str_radix(hex, 16).ok()?;
                    Some(map.get(&glyph).cloned().unwrap_or_default())
                })
                .collect()
        })
        .collect()
}

/// Whether some line, read left to right (`rtl` false) or right to left, contains `needle`.
fn has_text(lines: &[Vec<String>], needle: &str, rtl: bool) -> bool {
    lines.iter().any(|glyphs| {
        let text: String = if rtl {
            glyphs.iter().rev().map(String::as_str).collect()
        } else {
            glyphs.concat()
        };
        text.contains(needle)
    })
}

#[test]
fn latin_script_letters_render() {
    for (from, to, language, expected) in [
        ("ES", "GB", Language::En, "Speciality rule"),
        ("ES", "FR", Language::Fr, "Règle de la spécialité"),
        ("FR", "ES", Language::Es, "Principio de especialidad"),
    ] {
        let pdf = render(from, to, language, "Karim EL AMRANI").expect("pdf");
        assert_well_formed(&pdf);
        let lines = lines(&pdf);
        assert!(has_text(&lines, expected, false), "{language}: {expected}");
        assert!(has_text(&lines, "Karim EL AMRANI", false), "{language}");
        // Free text is set oblique (a slanted text matrix).
        assert!(find(&pdf, b"1 0 0.20 1 ").is_some());
    }
}

#[test]
fn arabic_letters_render_right_to_left() {
    let pdf = render("ES", "MA", Language::Ar, "يوسف العمراني").expect("pdf");
    assert_well_formed(&pdf);
    let lines = lines(&pdf);
    assert!(lines.iter().map(Vec::len).sum::<usize>() > 500);
    // The glyphs run right to left: read that way, the text comes back.
    assert!(has_text(&lines, "قاعدة التخصيص", true));
    assert!(has_text(&lines, "يوسف العمراني", true));
    assert!(!has_text(&lines, "قاعدة التخصيص", false));
    // Parentheses are mirrored in right-to-left text, and still read as what they are.
    assert!(has_text(&lines, "(باليرمو،", true));
    // Shaping chose joined forms: the initial, medial and final forms of a letter are
    // different glyphs, so the glyphs mapped to 'ع' are more than one.
    let pdf_text = String::from_utf8_lossy(&pdf);
    let ain = pdf_text.matches("> <0639>\n").count();
    assert!(ain >= 2, "{ain} glyphs for ain");
    // The font program is embedded.
    assert!(find(&pdf, b"/FontFile2 7 0 R").is_some());
    assert!(find(&pdf, b"/Subtype /CIDFontType2").is_some());
}

#[test]
fn arabic_names_render_in_a_latin_script_letter() {
    let pdf = render("ES", "FR", Language::Fr, "يوسف العمراني").expect("arabic name");
    assert_well_formed(&pdf);
    let lines = lines(&pdf);
    assert!(has_text(&lines, "Règle de la spécialité", false));
    assert!(has_text(&lines, "يوسف العمراني", true));
}

#[test]
fn authority_names_and_the_contact_officer_are_set_in_their_own_direction() {
    let request = sample_request("MA", "FR");
    let assessment = assessment(&request);
    let input = LetterInput {
        content: &request,
        assessment: &assessment,
        case_reference: "DP 123/2026",
        request_id: "0190a4c2-7b1e-7000-8000-000000000001",
        date: date("2026-06-01"),
        requesting_authority_name: Some("النيابة العامة بالرباط"),
        requested_authority_name: Some("Bureau de l'entraide pénale internationale"),
        contact_officer: Some("Karim Bennani (central authority officer)"),
    };
    let pdf = render_letter_pdf(&input, Language::Fr).expect("pdf");
    assert_well_formed(&pdf);
    let lines = lines(&pdf);
    assert!(has_text(&lines, "النيابة العامة بالرباط", true));
    assert!(has_text(
        &lines,
        "Bureau de l'entraide pénale internationale",
        false
    ));
    assert!(has_text(
        &lines,
        "Karim Bennani (central authority officer)",
        false
    ));
}

#[test]
fn characters_the_font_lacks_are_refused() {
    let error = render("ES", "FR", Language::Fr, "Юрий 王").expect_err("cyrillic name");
    assert!(
        matches!(
            error,
            FormError::UnsupportedCharacter {
                character: 'Ю', ..
            }
        ),
        "{error}"
    );
    assert!(error.to_string().contains("HTML"));
}
