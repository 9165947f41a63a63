//! Catalog loading: the embedded catalog loads, a directory loads the same, and every kind
//! of error names the file, the line and the problem.

use comity_law::{Catalog, CatalogError};

const FALLBACK: &str = r#"
[[instrument]]
id = "reciprocity"
title = "Reciprocity"
kind = "customary"
role = "fallback"
source_url = "https://example.org"
basis_article = "domestic law"
[instrument.parties]
source = "none"
all_states = true
"#;

fn load(text: &str) -> CatalogError {
    Catalog::from_sources([
        ("fallback.toml".to_string(), FALLBACK),
        ("broken.toml".to_string(), text),
    ])
    .expect_err("the catalog must be rejected")
}

fn instrument(extra: &str) -> String {
    format!(
        r#"# a test file
[[instrument]]
id = "test"
title = "Test instrument"
kind = "regional"
role = "legal_basis"
source_url = "https://example.org"
basis_article = "1"
{extra}
"#
    )
}

fn assert_names(error: CatalogError, line: usize, problem: &str) {
    let message = error.to_string();
    assert!(
        message.starts_with(&format!("broken.toml:{line}: ")),
        "file and line in `{message}` (expected line {line})"
    );
    assert!(message.contains(problem), "`{problem}` in `{message}`");
}

#[test]
fn embedded_catalog_loads_and_matches_the_directory() {
    let embedded = Catalog::embedded().expect("embedded");
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/catalog");
    let loaded = Catalog::load_dir(dir).expect("directory");
    assert_eq!(embedded.instruments().len(), loaded.instruments().len());
    for id in [
        "untoc",
        "eio",
        "ecmacm_1959",
        "budapest",
        "fr_ma_mla_2008",
        "reciprocity",
    ] {
        assert!(embedded.instrument(id).is_some(), "{id}");
    }
    for instrument in embedded.instruments() {
        assert!(
            !instrument.parties.source.is_empty(),
            "{} parties source",
            instrument.id
        );
    }
}

#[test]
fn missing_directory_is_an_io_error() {
    let error = Catalog::load_dir("/nonexistent/comity-catalog").expect_err("no directory");
    assert!(matches!(error, CatalogError::Io { .. }));
    assert!(error.to_string().contains("/nonexistent/comity-catalog"));
}

#[test]
fn unknown_country_code() {
    let text = instrument("[instrument.parties]\nsource = \"s\"\nstates = [{ state = \"XX\" }]");
    assert_names(load(&text), 11, "unknown country code `XX`");
}

#[test]
fn lower_case_country_code_is_refused() {
    let text = instrument("[instrument.parties]\nsource = \"s\"\nstates = [{ state = \"fr\" }]");
    assert_names(load(&text), 11, "unknown country code `fr`");
}

#[test]
fn unknown_measure_code() {
    let text = instrument(
        "measures = [\"taking_statements\", \"torture\"]\n[instrument.parties]\nsource = \"s\"",
    );
    assert_names(load(&text), 9, "unknown measure code `torture`");
}

#[test]
fn unknown_offence_category() {
    let text = instrument(
        "[instrument.parties]\nsource = \"s\"\n[instrument.scope]\narticle = \"3\"\noffence_categories = [\"smuggling\"]",
    );
    assert_names(load(&text), 13, "unknown offence category `smuggling`");
}

#[test]
fn unknown_instrument_in_gives_way_to() {
    let text = instrument(
        "[instrument.parties]\nsource = \"s\"\n[[instrument.gives_way_to]]\ninstrument = \"nowhere\"\narticle = \"30\"\ntext = \"t\"",
    );
    assert_names(
        load(&text),
        12,
        "unknown instrument `nowhere` referenced in `gives_way_to`",
    );
}

#[test]
fn duplicate_id() {
    let text = format!(
        "{}\n[instrument.parties]\nsource = \"s\"\n{}\n[instrument.parties]\nsource = \"s\"",
        instrument(""),
        instrument("").replace("# a test file", "")
    );
    let error = load(&text);
    let message = error.to_string();
    assert!(message.starts_with("broken.toml:"), "{message}");
    assert!(message.contains("duplicate id `test`"), "{message}");
    assert!(
        !message.starts_with("broken.toml:3:"),
        "the second definition is named: {message}"
    );
}

#[test]
fn missing_article_citation() {
    let text = instrument(
        "[instrument.parties]\nsource = \"s\"\n[[instrument.refusal_grounds]]\ncode = \"x\"\nkind = \"optional\"\ntext = \"a ground\"",
    );
    assert_names(
        load(&text),
        11,
        "missing article citation in a refusal ground",
    );
}

#[test]
fn malformed_date() {
    let text = instrument("in_force = \"2011-13-45\"\n[instrument.parties]\nsource = \"s\"");
    assert_names(load(&text), 9, "malformed date `2011-13-45`");
}

#[test]
fn malformed_party_date() {
    let text = instrument(
        "[instrument.parties]\nsource = \"s\"\nstates = [{ state = \"FR\", from = \"19/08/2011\" }]",
    );
    assert_names(load(&text), 11, "malformed date `19/08/2011`");
}

#[test]
fn unknown_group() {
    let text = instrument("[instrument.parties]\nsource = \"s\"\nstates = [{ group = \"nato\" }]");
    assert_names(load(&text), 11, "unknown group `nato`");
}

#[test]
fn toml_syntax_and_shape_errors_name_the_line() {
    let text = instrument("[instrument.parties]\nsource = \"s\"\nwhat = ");
    let message = load(&text).to_string();
    assert!(message.starts_with("broken.toml:11:"), "{message}");
    let text = instrument(
        "[instrument.parties]\nsource = \"s\"\n[[instrument.channels]]\nkind = \"pigeon\"\nwhen = \"always\"\narticle = \"1\"",
    );
    let message = load(&text).to_string();
    assert!(message.starts_with("broken.toml:"), "{message}");
    assert!(message.contains("pigeon"), "{message}");
}

#[test]
fn exactly_one_fallback() {
    let error = Catalog::from_sources([("only.toml".to_string(), "")]).expect_err("no fallback");
    assert!(
        error
            .to_string()
            .contains("exactly one instrument with role `fallback`")
    );
}

#[test]
fn a_party_without_a_date_needs_the_list_to_say_why() {
    let text = instrument("[instrument.parties]\nsource = \"s\"\nstates = [{ state = \"FR\" }]");
    assert_names(
        load(&text),
        11,
        "party `FR` has no date of entry into force",
    );
    let explained = instrument(
        "[instrument.parties]\nsource = \"s\"\nundated = \"not found\"\nstates = [{ state = \"FR\" }]",
    );
    Catalog::from_sources([
        ("fallback.toml".to_string(), FALLBACK),
        ("broken.toml".to_string(), explained.as_str()),
    ])
    .expect("an undated party is accepted when the list says why");
    let blank = instrument(
        "[instrument.parties]\nsource = \"s\"\nundated = \" \"\nstates = [{ state = \"FR\" }]",
    );
    assert_names(load(&blank), 11, "empty `parties undated reason`");
}

#[test]
fn unknown_role_in_a_consent_rule() {
    let text = instrument(
        "[instrument.parties]\nsource = \"s\"\n[[instrument.measure_rules]]\nmeasure = \"video_conference_hearing\"\narticle = \"24(1)\"\ntext = \"t\"\nconsent_article = \"24(2)(a)\"\nconsent_of = [\"judge\"]\nconsent_text = \"c\"",
    );
    assert_names(load(&text), 16, "unknown person role `judge`");
}

#[test]
fn a_measure_rule_needs_its_article_and_a_consent_rule_its_text() {
    let text = instrument(
        "[instrument.parties]\nsource = \"s\"\n[[instrument.measure_rules]]\nmeasure = \"video_conference_hearing\"\ntext = \"t\"",
    );
    assert_names(
        load(&text),
        11,
        "missing article citation in a measure rule",
    );
    let text = instrument(
        "[instrument.parties]\nsource = \"s\"\n[[instrument.measure_rules]]\nmeasure = \"video_conference_hearing\"\narticle = \"24(1)\"\ntext = \"t\"\nconsent_article = \"24(2)(a)\"",
    );
    assert_names(load(&text), 11, "empty `consent_text`");
    let text = instrument(
        "[instrument.parties]\nsource = \"s\"\n[[instrument.deadlines]]\nkind = \"decision\"\nhours = 96\nmeasures = [\"interception_notification\"]\ntext = \"t\"",
    );
    assert_names(load(&text), 11, "missing article citation in a deadline");
}
