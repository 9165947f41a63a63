//! The PDF letter: well-formed for Latin-script languages, refused for Arabic and for
//! characters the standard fonts cannot show.

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
    };
    render_letter_pdf(&input, language)
}

/// Checks the cross-reference table against the objects it points to.
fn assert_well_formed(pdf: &[u8]) {
    let text = String::from_utf8_lossy(pdf);
    assert!(pdf.starts_with(b"%PDF-1.4\n"));
    assert!(text.ends_with("%%EOF\n"));
    let startxref = text.rfind("startxref\n").expect("startxref") + "startxref\n".len();
    let xref: usize = text[startxref..]
        .lines()
        .next()
        .and_then(|line| line.parse().ok())
        .expect("xref offset");
    assert!(pdf[xref..].starts_with(b"xref\n"));
    let entries = text[xref..]
        .lines()
        .skip(3)
        .take_while(|line| line.ends_with(" n "));
    for (index, entry) in entries.enumerate() {
        let offset: usize = entry[..10].parse().expect("offset");
        let header = format!("{} 0 obj", index + 1);
        assert!(
            pdf[offset..].starts_with(header.as_bytes()),
            "object {}",
            index + 1
        );
    }
}

#[test]
fn latin_script_letters_render() {
    for (from, to, language, expected) in [
        ("ES", "GB", Language::En, &b"Speciality rule)"[..]),
        (
            "ES",
            "FR",
            Language::Fr,
            &b"R\\350gle de la sp\\351cialit\\351"[..],
        ),
        ("FR", "ES", Language::Es, &b"Principio de especialidad"[..]),
    ] {
        let pdf = render(from, to, language, "Karim EL AMRANI").expect("pdf");
        assert_well_formed(&pdf);
        let found = pdf.windows(expected.len()).any(|window| window == expected);
        assert!(found, "{language}: {}", String::from_utf8_lossy(expected));
        // Free text is set in the oblique font; hostile text is inert in a PDF string.
        assert!(pdf.windows(b"/F3".len()).any(|window| window == b"/F3"));
    }
}

#[test]
fn arabic_is_refused_rather_than_garbled() {
    let error = render("ES", "MA", Language::Ar, "Karim EL AMRANI").expect_err("arabic");
    assert_eq!(
        error,
        FormError::UnsupportedScript {
            language: Language::Ar
        }
    );
    let error = render("ES", "FR", Language::Fr, "كريم العمراني").expect_err("arabic name");
    assert!(
        matches!(
            error,
            FormError::UnsupportedCharacter {
                character: 'ك', ..
            }
        ),
        "{error}"
    );
    assert!(error.to_string().contains("HTML"));
}
