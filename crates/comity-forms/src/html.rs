//! The letter of request as a standalone, printable HTML5 document (A4, inline CSS).
//!
//! Free text is wrapped in an element with class `for-translation`, `lang="und"` (the
//! source language is not recorded) and `dir="auto"`, so that a right-to-left letter
//! shows left-to-right passages correctly and a translator can find every one of them.
//! maud escapes every string.

use maud::{DOCTYPE, Markup, PreEscaped, html};

use crate::Language;
use crate::letter::{self, Block, Field, Inline, Letter, LetterInput, SectionStyle};

/// Renders the letter of request as a complete HTML document in `language`.
pub fn render_letter_html(input: &LetterInput<'_>, language: Language) -> String {
    let letter = letter::build(input, language);
    document(&letter).into_string()
}

const STYLE: &str = r#"
@page { size: A4; margin: 20mm 18mm 22mm 18mm; }
* { box-sizing: border-box; }
html { font-size: 11pt; }
body { margin: 0 auto; max-width: 174mm; padding: 8mm 0; color: #111; line-height: 1.45;
  font-family: "Times New Roman", "Liberation Serif", "DejaVu Serif", serif; }
html[lang="ar"] body { font-family: "Amiri", "Noto Naskh Arabic", "Traditional Arabic",
  "Arial", "DejaVu Sans", sans-serif; line-height: 1.7; }
header.letterhead { border-bottom: 2px solid #111; margin-bottom: 1em; }
h1 { font-size: 1.45em; margin: 0 0 .2em; }
.subtitle { font-size: 1.1em; font-style: italic; margin: 0 0 .6em; }
html[lang="ar"] .subtitle { font-style: normal; font-weight: bold; }
.urgent-marker { display: inline-block; border: 2px solid #a00; color: #a00; font-weight: bold;
  padding: .1em .6em; margin-block-end: .5em; letter-spacing: .1em; }
h2 { font-size: 1.1em; margin: 1.3em 0 .3em; break-after: avoid; }
h3 { font-size: 1em; margin: .8em 0 .2em; break-after: avoid; }
.citation { font-size: .85em; color: #333; margin: 0 0 .4em; }
dl { display: grid; grid-template-columns: minmax(30%, max-content) 1fr; gap: .15em 1em; margin: .3em 0; }
dt { font-weight: bold; }
dd { margin: 0; }
section { break-inside: auto; }
section.notice { border: 1.5px solid #111; padding: .2em .9em .6em; margin-block: 1em; break-inside: avoid; }
.entry { margin-block: .4em .8em; padding-inline-start: .8em; border-inline-start: 3px solid #ccc; break-inside: avoid; }
.entry-title { font-weight: bold; margin: 0; }
.translation-note { border: 1px dashed #555; background: #f7f7f2; padding: .4em .9em; margin-block: 1em; }
.translation-note p { margin: .2em 0; }
.for-translation { border: 1px dashed #777; background: #fbfbe9; padding: 0 .2em; font-style: italic; }
div.for-translation { display: block; white-space: pre-line; padding: .3em .5em; margin: .3em 0; }
html[lang="ar"] .for-translation { font-style: normal; }
.code { font-family: "DejaVu Sans Mono", "Courier New", monospace; font-size: .9em; unicode-bidi: isolate; }
table { border-collapse: collapse; width: 100%; font-size: .9em; }
th, td { border: 1px solid #999; padding: .2em .4em; text-align: start; vertical-align: top; }
td .code { word-break: break-all; }
.closing { margin-top: 1.5em; }
.signature { margin-top: 2.5em; display: grid; grid-template-columns: 1fr 1fr; gap: 2em; }
.signature div { border-top: 1px solid #111; padding-top: .3em; font-size: .9em; min-height: 3em; }
@media print { body { padding: 0; max-width: none; } a { color: inherit; text-decoration: none; } }
"#;

fn document(letter: &Letter) -> Markup {
    let language = letter.language;
    html! {
        (DOCTYPE)
        html lang=(language.code()) dir=(language.direction()) {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (letter.title) }
                style { (PreEscaped(STYLE)) }
            }
            body {
                header.letterhead {
                    @if let Some(marker) = &letter.urgent_marker {
                        p.urgent-marker { (marker) }
                    }
                    h1 { (letter.title) }
                    p.subtitle { (letter.subtitle) }
                    (fields(&letter.header))
                }
                @if let Some(note) = &letter.translation_note {
                    aside.translation-note role="note" {
                        p { strong { (note.title) } }
                        p { (note.intro) }
                        ul {
                            @for heading in &note.sections { li { (heading) } }
                        }
                    }
                }
                main {
                    p.opening { (letter.opening) }
                    @for (index, section) in letter.sections.iter().enumerate() {
                        section id=(section.id) class=[(section.style == SectionStyle::Notice).then_some("notice")] {
                            h2 { (index + 1) ". " (section.heading) }
                            @if let Some(citation) = &section.citation {
                                p.citation { "(" (citation) ")" }
                            }
                            @for block in &section.blocks { (render_block(block)) }
                        }
                    }
                    p.closing { (letter.closing) }
                    div.signature {
                        div { (letter.signature) }
                        div { (letter.signatory) }
                    }
                }
            }
        }
    }
}

fn render_block(block: &Block) -> Markup {
    html! {
        @match block {
            Block::Subheading(heading) => h3 { (heading) },
            Block::Paragraph(inlines) => p { (render_inlines(inlines)) },
            Block::SourceText(text) => div.for-translation lang="und" dir="auto" { (text) },
            Block::Fields(list) => (fields(list)),
            Block::Entry { title, fields: list } => div.entry {
                p.entry-title { (render_inlines(title)) }
                (fields(list))
            },
            Block::List(items) => ul {
                @for item in items { li { (render_inlines(item)) } }
            },
            Block::Table { header, rows } => table {
                thead { tr { @for cell in header { th scope="col" { (cell) } } } }
                tbody {
                    @for row in rows {
                        tr { @for cell in row { td { (render_inline(cell)) } } }
                    }
                }
            },
        }
    }
}

fn fields(list: &[Field]) -> Markup {
    html! {
        dl {
            @for field in list {
                dt { (field.label) }
                dd { (render_inlines(&field.value)) }
            }
        }
    }
}

fn render_inlines(inlines: &[Inline]) -> Markup {
    html! { @for inline in inlines { (render_inline(inline)) } }
}

fn render_inline(inline: &Inline) -> Markup {
    html! {
        @match inline {
            Inline::Text(text) => (text),
            Inline::Source(text) => span.for-translation lang="und" dir="auto" { (text) },
            Inline::Code(text) => bdi.code dir="ltr" { (text) },
            Inline::Name(text) => bdi dir="auto" { (text) },
        }
    }
}
