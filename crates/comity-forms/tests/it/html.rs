//! The HTML letter in each language: translated labels, marked and escaped free text.

use comity_forms::Language;

use crate::{FACTS, NAME, PURPOSE, SUBJECT, check};

/// What every rendering must contain, whatever the language: free text unchanged and
/// marked for translation, identifiers as given.
fn common() -> Vec<String> {
    let marked = |text: &str| format!(r#"class="for-translation" lang="und" dir="auto">{text}<"#);
    vec![
        "<!DOCTYPE html>".into(),
        "@page { size: A4".into(),
        marked(SUBJECT),
        marked(FACTS),
        marked(PURPOSE),
        marked(NAME),
        marked("Persona detenida"),
        marked("art. 318 bis Código Penal"),
        marked("Tánger"),
        "-fiscalia</bdi>".into(),
        "0190a4c2-7b1e-7000-8000-000000000001".into(),
        "auto_judicial.pdf".into(),
        // The hostile free text, escaped.
        "Copies of &lt;script&gt;alert('x')&lt;/script&gt; &amp; &quot;records&quot;".into(),
    ]
}

const RAW_SCRIPT: &[&str] = &["<script", "</script>"];

fn expect(specific: &[&str]) -> Vec<String> {
    let mut all = common();
    all.extend(specific.iter().map(|s| s.to_string()));
    all
}

fn run(from: &str, to: &str, language: Language, specific: &[&str]) -> String {
    let expected = expect(specific);
    let expected: Vec<&str> = expected.iter().map(String::as_str).collect();
    check(from, to, language, &expected, RAW_SCRIPT)
}

#[test]
fn english() {
    run(
        "ES",
        "GB",
        Language::En,
        &[
            r#"<html lang="en" dir="ltr">"#,
            "Request for mutual legal assistance in criminal matters",
            "production of bank and financial records",
            "facilitation of unauthorised entry and residence",
            "Speciality rule",
            "18(19)",
            "18(20)",
            "23 November 2026",
            "await translation into English",
            "URGENT",
        ],
    );
}

#[test]
fn french() {
    run(
        "ES",
        "FR",
        Language::Fr,
        &[
            r#"<html lang="fr" dir="ltr">"#,
            "Demande d'entraide judiciaire en matière pénale",
            "Commission rogatoire internationale",
            "communication de documents bancaires et financiers",
            "recueil de témoignages ou de dépositions",
            "aide à l'entrée et au séjour irréguliers",
            "personne soupçonnée",
            "mineur",
            "Règle de la spécialité",
            "Convention des Nations Unies contre la criminalité transnationale organisée",
            "confidentiel",
            "17 avril 1990",
            "23 novembre 2026",
            "Leur traduction en français est en attente",
            "Résumé des faits pertinents",
        ],
    );
}

#[test]
fn spanish() {
    run(
        "FR",
        "ES",
        Language::Es,
        &[
            r#"<html lang="es" dir="ltr">"#,
            "Solicitud de asistencia judicial en materia penal",
            "Comisión rogatoria internacional",
            "aportación de documentación bancaria y financiera",
            "ayuda a la entrada y residencia en situación ilegal",
            "menor de edad",
            "Principio de especialidad",
            "Convención de las Naciones Unidas contra la Delincuencia Organizada Transnacional",
            "23 de noviembre de 2026",
            "URGENTE",
        ],
    );
}

#[test]
fn arabic() {
    let html = run(
        "ES",
        "MA",
        Language::Ar,
        &[
            r#"<html lang="ar" dir="rtl">"#,
            "طلب المساعدة القانونية المتبادلة في المسائل الجنائية",
            "تقديم السجلات المصرفية والمالية",
            "تسهيل الدخول والإقامة غير المشروعين",
            "مشتبه فيه",
            "قاصر",
            "قاعدة التخصيص",
            "اتفاقية الأمم المتحدة لمكافحة الجريمة المنظمة عبر الوطنية",
            "السرية",
            "عاجل",
            "23 نوفمبر 2026",
            "في انتظار الترجمة إلى العربية",
        ],
    );
    // Identifiers stay left to right inside the right-to-left letter.
    assert!(html.contains(r#"<bdi class="code" dir="ltr">es-fiscalia</bdi>"#));
}

#[test]
fn the_translation_note_lists_the_sections_with_free_text() {
    let html = check("ES", "FR", Language::Fr, &[], &[]);
    let note_start = html.find("translation-note").expect("note");
    let note_end = note_start + html[note_start..].find("</aside>").expect("end of note");
    let note = &html[note_start..note_end];
    for heading in [
        "Résumé des faits pertinents",
        "But de la demande",
        "Personnes concernées",
    ] {
        assert!(note.contains(heading), "{heading} not in note: {note}");
    }
    // The legal basis is all coded: nothing in it awaits translation.
    assert!(!note.contains("Fondement juridique"), "{note}");
    // The note comes before the body of the letter.
    assert!(note_start < html.find("<main>").expect("main"));
}
