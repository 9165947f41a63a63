//! The letter of request as a PDF, written directly (PDF 1.4, no dependency) with the
//! standard Courier fonts every PDF reader has, in WinAnsiEncoding.
//!
//! Courier is monospaced, so line breaking is exact without font metrics. The standard
//! fonts cover Western European (Latin-1 and Windows-1252) characters only: a letter in
//! Arabic is refused with [`FormError::UnsupportedScript`] (it would need an embedded
//! font, glyph shaping and bidirectional layout), and any other character outside that
//! set, in a name for example, with [`FormError::UnsupportedCharacter`]: the HTML letter
//! has neither limit. Free text awaiting translation is set in Courier-Oblique.

use std::fmt::Write as _;

use crate::letter::{self, Block, Field, Inline, Letter, LetterInput, SectionStyle};
use crate::{FormError, Language, Translations};

/// Renders the letter of request as a PDF document in `language`.
pub fn render_letter_pdf(
    input: &LetterInput<'_>,
    language: Language,
) -> Result<Vec<u8>, FormError> {
    if language.is_rtl() {
        return Err(FormError::UnsupportedScript { language });
    }
    let letter = letter::build(input, language);
    let colon = Translations::get(language).text("colon");
    let mut layout = Layout::default();
    lay_out(&letter, colon, &mut layout)?;
    Ok(write_pdf(&letter.title, &layout.finish(), input.request_id))
}

/// A4 in points.
const PAGE_WIDTH: f32 = 595.28;
const PAGE_HEIGHT: f32 = 841.89;
const MARGIN_X: f32 = 56.0;
const MARGIN_TOP: f32 = 60.0;
const MARGIN_BOTTOM: f32 = 64.0;
const FONT_SIZE: f32 = 10.0;
const LINE_HEIGHT: f32 = 13.0;
/// Courier glyphs are 600/1000 em wide.
const CHAR_WIDTH: f32 = FONT_SIZE * 0.6;
/// Characters on a full line.
const LINE_CHARS: usize = ((PAGE_WIDTH - 2.0 * MARGIN_X) / CHAR_WIDTH) as usize;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Font {
    Regular,
    Bold,
    /// Free text awaiting translation.
    Oblique,
}

impl Font {
    fn resource(self) -> &'static str {
        match self {
            Font::Regular => "F1",
            Font::Bold => "F2",
            Font::Oblique => "F3",
        }
    }
}

/// One line of a page: runs of encoded text starting `indent` characters in, or a rule.
#[derive(Debug, Clone)]
enum Line {
    Text {
        indent: usize,
        size: f32,
        runs: Vec<(Font, Vec<u8>)>,
    },
    Rule,
    Blank,
}

#[derive(Debug, Default)]
struct Layout {
    lines: Vec<Line>,
}

type Page = Vec<(f32, Line)>;

impl Layout {
    fn blank(&mut self) {
        if !matches!(self.lines.last(), None | Some(Line::Blank)) {
            self.lines.push(Line::Blank);
        }
    }

    /// Wraps runs of text to the page width, at spaces, with a hanging indent.
    fn wrap(&mut self, indent: usize, hanging: usize, size: f32, runs: &[(Font, Vec<u8>)]) {
        let scale = FONT_SIZE / size;
        let width_at = |indent: usize| (((LINE_CHARS - indent) as f32) * scale) as usize;
        // Split into words (keeping their font) and explicit line breaks.
        let mut words: Vec<Option<(Font, Vec<u8>)>> = Vec::new();
        for (font, bytes) in runs {
            for (index, line) in bytes.split(|&b| b == b'\n').enumerate() {
                if index > 0 {
                    words.push(None);
                }
                for word in line.split(|&b| b == b' ').filter(|w| !w.is_empty()) {
                    words.push(Some((*font, word.to_vec())));
                }
            }
        }
        let mut current: Vec<(Font, Vec<u8>)> = Vec::new();
        let mut used = 0;
        let mut line_indent = indent;
        let mut flush =
            |current: &mut Vec<(Font, Vec<u8>)>, used: &mut usize, line_indent: &mut usize| {
                self.lines.push(Line::Text {
                    indent: *line_indent,
                    size,
                    runs: std::mem::take(current),
                });
                *used = 0;
                *line_indent = indent + hanging;
            };
        for word in words {
            let Some((font, mut word)) = word else {
                flush(&mut current, &mut used, &mut line_indent);
                continue;
            };
            loop {
                let width = width_at(line_indent).max(8);
                let space = usize::from(used > 0);
                if used + space + word.len() <= width {
                    if space == 1 {
                        push_run(&mut current, font, b" ");
                    }
                    push_run(&mut current, font, &word);
                    used += space + word.len();
                    break;
                }
                if used > 0 {
                    flush(&mut current, &mut used, &mut line_indent);
                    continue;
                }
                // A word longer than the line: break it.
                let rest = word.split_off(width);
                push_run(&mut current, font, &word);
                used = width;
                flush(&mut current, &mut used, &mut line_indent);
                word = rest;
            }
        }
        if !current.is_empty() {
            flush(&mut current, &mut used, &mut line_indent);
        }
    }

    /// Cuts the lines into pages, keeping a heading with the line after it.
    fn finish(self) -> Vec<Page> {
        let mut pages: Vec<Page> = vec![Vec::new()];
        let mut y = PAGE_HEIGHT - MARGIN_TOP;
        for line in self.lines {
            let height = match &line {
                Line::Text { size, .. } => LINE_HEIGHT * size / FONT_SIZE,
                Line::Rule | Line::Blank => LINE_HEIGHT * 0.6,
            };
            if y - height < MARGIN_BOTTOM {
                pages.push(Vec::new());
                y = PAGE_HEIGHT - MARGIN_TOP;
                if matches!(line, Line::Blank) {
                    continue;
                }
            }
            y -= height;
            if let Some(page) = pages.last_mut() {
                page.push((y, line));
            }
        }
        pages
    }
}

fn push_run(runs: &mut Vec<(Font, Vec<u8>)>, font: Font, bytes: &[u8]) {
    match runs.last_mut() {
        Some((last, text)) if *last == font => text.extend_from_slice(bytes),
        _ => runs.push((font, bytes.to_vec())),
    }
}

/// Encodes text in Windows-1252 (the PDF WinAnsiEncoding), or says which character
/// cannot be.
fn encode(text: &str, place: &str) -> Result<Vec<u8>, FormError> {
    text.chars()
        .map(|character| {
            let code = u32::from(character);
            let byte = match character {
                '\n' => Some(b'\n'),
                '\t' | '\r' => Some(b' '),
                ' '..='~' => u8::try_from(code).ok(),
                '\u{A0}'..='\u{FF}' => u8::try_from(code).ok(),
                '\u{202F}' | '\u{2007}' => Some(0xA0),
                '€' => Some(0x80),
                '‚' => Some(0x82),
                'ƒ' => Some(0x83),
                '„' => Some(0x84),
                '…' => Some(0x85),
                '†' => Some(0x86),
                '‡' => Some(0x87),
                'ˆ' => Some(0x88),
                '‰' => Some(0x89),
                'Š' => Some(0x8A),
                '‹' => Some(0x8B),
                'Œ' => Some(0x8C),
                'Ž' => Some(0x8E),
                '\u{2018}' => Some(0x91),
                '\u{2019}' => Some(0x92),
                '\u{201C}' => Some(0x93),
                '\u{201D}' => Some(0x94),
                '•' => Some(0x95),
                '–' | '\u{2011}' => Some(0x96),
                '—' => Some(0x97),
                '˜' => Some(0x98),
                '™' => Some(0x99),
                'š' => Some(0x9A),
                '›' => Some(0x9B),
                'œ' => Some(0x9C),
                'ž' => Some(0x9E),
                'Ÿ' => Some(0x9F),
                _ => None,
            };
            byte.ok_or_else(|| FormError::UnsupportedCharacter {
                character,
                code_point: code,
                field: place.to_string(),
            })
        })
        .collect()
}

fn inline_runs(inlines: &[Inline], place: &str) -> Result<Vec<(Font, Vec<u8>)>, FormError> {
    inlines
        .iter()
        .map(|inline| match inline {
            Inline::Text(text) | Inline::Code(text) => Ok((Font::Regular, encode(text, place)?)),
            Inline::Source(text) => Ok((Font::Oblique, encode(text, place)?)),
        })
        .collect()
}

fn lay_out_field(
    layout: &mut Layout,
    indent: usize,
    field: &Field,
    colon: &str,
    place: &str,
) -> Result<(), FormError> {
    let mut runs = vec![(
        Font::Bold,
        encode(&format!("{}{colon}", field.label), place)?,
    )];
    runs.extend(inline_runs(&field.value, place)?);
    layout.wrap(indent, 4, FONT_SIZE, &runs);
    Ok(())
}

fn lay_out(letter: &Letter, colon: &str, layout: &mut Layout) -> Result<(), FormError> {
    let place = "heading";
    if let Some(marker) = &letter.urgent_marker {
        let marker = encode(&format!("*** {marker} ***"), place)?;
        layout.wrap(0, 0, 12.0, &[(Font::Bold, marker)]);
    }
    layout.wrap(0, 0, 13.0, &[(Font::Bold, encode(&letter.title, place)?)]);
    layout.wrap(
        0,
        0,
        FONT_SIZE,
        &[(Font::Oblique, encode(&letter.subtitle, place)?)],
    );
    layout.blank();
    for field in &letter.header {
        lay_out_field(layout, 0, field, colon, place)?;
    }
    layout.lines.push(Line::Rule);
    if let Some(note) = &letter.translation_note {
        let place = "translation note";
        layout.wrap(
            0,
            0,
            FONT_SIZE,
            &[(Font::Bold, encode(&note.title, place)?)],
        );
        layout.wrap(
            0,
            0,
            FONT_SIZE,
            &[(Font::Regular, encode(&note.intro, place)?)],
        );
        for heading in &note.sections {
            layout.wrap(
                2,
                2,
                FONT_SIZE,
                &[(Font::Regular, encode(&format!("- {heading}"), place)?)],
            );
        }
        layout.lines.push(Line::Rule);
    }
    layout.blank();
    layout.wrap(
        0,
        0,
        FONT_SIZE,
        &[(Font::Regular, encode(&letter.opening, "opening")?)],
    );
    for (index, section) in letter.sections.iter().enumerate() {
        let place = section.heading.as_str();
        layout.blank();
        let notice = section.style == SectionStyle::Notice;
        if notice {
            layout.lines.push(Line::Rule);
        }
        let heading = format!("{}. {}", index + 1, section.heading);
        layout.wrap(0, 3, FONT_SIZE, &[(Font::Bold, encode(&heading, place)?)]);
        if let Some(citation) = &section.citation {
            layout.wrap(
                3,
                1,
                FONT_SIZE,
                &[(Font::Regular, encode(&format!("({citation})"), place)?)],
            );
        }
        for block in &section.blocks {
            lay_out_block(layout, block, colon, place)?;
        }
        if notice {
            layout.lines.push(Line::Rule);
        }
    }
    layout.blank();
    layout.wrap(
        0,
        0,
        FONT_SIZE,
        &[(Font::Regular, encode(&letter.closing, "closing")?)],
    );
    for label in [&letter.signature, &letter.signatory] {
        layout.blank();
        layout.blank();
        layout.wrap(
            0,
            0,
            FONT_SIZE,
            &[(Font::Regular, b"______________________________".to_vec())],
        );
        layout.wrap(
            0,
            0,
            FONT_SIZE,
            &[(Font::Regular, encode(label, "signature")?)],
        );
    }
    Ok(())
}

fn lay_out_block(
    layout: &mut Layout,
    block: &Block,
    colon: &str,
    place: &str,
) -> Result<(), FormError> {
    match block {
        Block::Subheading(heading) => {
            layout.wrap(3, 0, FONT_SIZE, &[(Font::Bold, encode(heading, place)?)]);
        }
        Block::Paragraph(inlines) => layout.wrap(3, 0, FONT_SIZE, &inline_runs(inlines, place)?),
        Block::SourceText(text) => {
            layout.wrap(3, 0, FONT_SIZE, &[(Font::Oblique, encode(text, place)?)]);
        }
        Block::Fields(fields) => {
            for field in fields {
                lay_out_field(layout, 3, field, colon, place)?;
            }
        }
        Block::Entry { title, fields } => {
            let mut runs = inline_runs(title, place)?;
            for run in &mut runs {
                if run.0 == Font::Regular {
                    run.0 = Font::Bold;
                }
            }
            layout.wrap(3, 2, FONT_SIZE, &runs);
            for field in fields {
                lay_out_field(layout, 5, field, colon, place)?;
            }
        }
        Block::List(items) => {
            for item in items {
                let mut runs = vec![(Font::Regular, b"- ".to_vec())];
                runs.extend(inline_runs(item, place)?);
                layout.wrap(3, 2, FONT_SIZE, &runs);
            }
        }
        Block::Table { header, rows } => {
            for (index, row) in rows.iter().enumerate() {
                layout.wrap(
                    3,
                    0,
                    FONT_SIZE,
                    &[(Font::Bold, format!("{}.", index + 1).into_bytes())],
                );
                for (label, cell) in header.iter().zip(row) {
                    let field = Field {
                        label: label.clone(),
                        value: vec![cell.clone()],
                    };
                    lay_out_field(layout, 5, &field, colon, place)?;
                }
            }
        }
    }
    Ok(())
}

/// A PDF literal string: parentheses and backslashes escaped, bytes above ASCII in octal.
fn pdf_string(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len() + 2);
    out.push('(');
    for &byte in bytes {
        match byte {
            b'(' | b')' | b'\\' => {
                out.push('\\');
                out.push(char::from(byte));
            }
            0x20..=0x7E => out.push(char::from(byte)),
            _ => {
                let _ = write!(out, "\\{byte:03o}");
            }
        }
    }
    out.push(')');
    out
}

/// A PDF text string in UTF-16BE with a byte-order mark, for the document information.
fn pdf_text_string(text: &str) -> String {
    let mut out = String::from("<FEFF");
    for unit in text.encode_utf16() {
        let _ = write!(out, "{unit:04X}");
    }
    out.push('>');
    out
}

fn page_content(page: &Page, footer: &[u8]) -> String {
    let mut content = String::new();
    for (y, line) in page {
        match line {
            Line::Text { indent, size, runs } => {
                let x = MARGIN_X + *indent as f32 * CHAR_WIDTH;
                let _ = write!(content, "BT {x:.2} {y:.2} Td ");
                for (font, bytes) in runs {
                    let _ = write!(
                        content,
                        "/{} {size:.1} Tf {} Tj ",
                        font.resource(),
                        pdf_string(bytes)
                    );
                }
                content.push_str("ET\n");
            }
            Line::Rule => {
                let y = y + LINE_HEIGHT * 0.3;
                let _ = writeln!(
                    content,
                    "0.6 w {MARGIN_X:.2} {y:.2} m {:.2} {y:.2} l S",
                    PAGE_WIDTH - MARGIN_X
                );
            }
            Line::Blank => {}
        }
    }
    let _ = writeln!(
        content,
        "BT {MARGIN_X:.2} {:.2} Td /F1 8.0 Tf {} Tj ET",
        MARGIN_BOTTOM - 30.0,
        pdf_string(footer)
    );
    content
}

fn write_pdf(title: &str, pages: &[Page], request_id: &str) -> Vec<u8> {
    // Objects: 1 catalog, 2 pages, 3-5 fonts, 6 info, then a page and its content per page.
    let first_page = 7;
    let mut objects: Vec<String> = Vec::new();
    let kids: Vec<String> = (0..pages.len())
        .map(|index| format!("{} 0 R", first_page + 2 * index))
        .collect();
    objects.push("<< /Type /Catalog /Pages 2 0 R >>".to_string());
    objects.push(format!(
        "<< /Type /Pages /Kids [{}] /Count {} >>",
        kids.join(" "),
        pages.len()
    ));
    for base in ["Courier", "Courier-Bold", "Courier-Oblique"] {
        objects.push(format!(
            "<< /Type /Font /Subtype /Type1 /BaseFont /{base} /Encoding /WinAnsiEncoding >>"
        ));
    }
    objects.push(format!(
        "<< /Title {} /Producer (Comity comity-forms) >>",
        pdf_text_string(title)
    ));
    let id_bytes: Vec<u8> = request_id
        .chars()
        .filter(|c| c.is_ascii_graphic())
        .map(|c| c as u8)
        .collect();
    for (index, page) in pages.iter().enumerate() {
        let mut footer = id_bytes.clone();
        footer.extend_from_slice(format!("  {}/{}", index + 1, pages.len()).as_bytes());
        let content = page_content(page, &footer);
        objects.push(format!(
            "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 {PAGE_WIDTH} {PAGE_HEIGHT}] \
             /Resources << /Font << /F1 3 0 R /F2 4 0 R /F3 5 0 R >> >> /Contents {} 0 R >>",
            first_page + 2 * index + 1
        ));
        objects.push(format!(
            "<< /Length {} >>\nstream\n{content}endstream",
            content.len()
        ));
    }

    let mut out: Vec<u8> = b"%PDF-1.4\n%\xE2\xE3\xCF\xD3\n".to_vec();
    let mut offsets = Vec::with_capacity(objects.len());
    for (index, object) in objects.iter().enumerate() {
        offsets.push(out.len());
        out.extend_from_slice(format!("{} 0 obj\n{object}\nendobj\n", index + 1).as_bytes());
    }
    let xref = out.len();
    let mut table = format!("xref\n0 {}\n0000000000 65535 f \n", objects.len() + 1);
    for offset in offsets {
        let _ = writeln!(table, "{offset:010} 00000 n ");
    }
    let _ = write!(
        table,
        "trailer\n<< /Size {} /Root 1 0 R /Info 6 0 R >>\nstartxref\n{xref}\n%%EOF\n",
        objects.len() + 1
    );
    out.extend_from_slice(table.as_bytes());
    out
}
