//! The letter of request as a PDF, written directly (PDF 1.4) with one embedded
//! TrueType font, Amiri (SIL Open Font License, `fonts/OFL.txt`), which covers the Latin
//! and Arabic scripts.
//!
//! Text is shaped with `rustybuzz` (a port of HarfBuzz), so Arabic letters take their
//! joined forms and ligatures, and each line is put in visual order with the Unicode
//! bidirectional algorithm (`unicode-bidi`): a letter in Arabic runs right to left from
//! the right margin, and an Arabic name inside a letter in French reads correctly. The
//! font is a Type 0 (CIDFontType2) font with Identity-H encoding; the content streams
//! hold character ids, one for each glyph and the text it stands for, and the file
//! carries their glyphs, widths and a ToUnicode map (so text can be searched and
//! copied). The whole font program is embedded. Lines are wrapped at spaces by shaped
//! width.
//!
//! The bold and oblique styles are synthesised from the one font (stroked outlines, a
//! slanted text matrix), which keeps a single font program in the file. A character the
//! font has no glyph for (Cyrillic or Chinese, for example) is refused with
//! [`FormError::UnsupportedCharacter`]: the HTML letter has no such limit. Free text
//! awaiting translation is set oblique.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::ops::Range;

use rustybuzz::{BufferClusterLevel, Direction, Face, UnicodeBuffer};
use unicode_bidi::{Level, ParagraphBidiInfo};

use crate::letter::{self, Block, Field, Inline, Letter, LetterInput, SectionStyle};
use crate::{FormError, Language, Translations};

/// The embedded font program: Amiri Regular, unmodified.
static FONT_PROGRAM: &[u8] = include_bytes!("../fonts/Amiri-Regular.ttf");
/// Its PostScript name.
const FONT_NAME: &str = "Amiri-Regular";

/// Renders the letter of request as a PDF document in `language`.
pub fn render_letter_pdf(
    input: &LetterInput<'_>,
    language: Language,
) -> Result<Vec<u8>, FormError> {
    let shaper = Shaper::new()?;
    let letter = letter::build(input, language);
    let colon = Translations::get(language).text("colon");
    let mut layout = Layout {
        shaper: &shaper,
        lines: Vec::new(),
    };
    lay_out(&letter, colon, &mut layout)?;
    let footer = input
        .request_id
        .chars()
        .filter(char::is_ascii_graphic)
        .collect::<String>();
    Ok(write_pdf(
        &shaper,
        &letter.title,
        &layout.finish(),
        &footer,
        language.is_rtl(),
    ))
}

/// A4 in points.
const PAGE_WIDTH: f32 = 595.28;
const PAGE_HEIGHT: f32 = 841.89;
const MARGIN_X: f32 = 56.0;
const MARGIN_TOP: f32 = 60.0;
const MARGIN_BOTTOM: f32 = 64.0;
const FONT_SIZE: f32 = 10.5;
const LINE_HEIGHT: f32 = 15.0;
/// One step of indentation.
const INDENT_WIDTH: f32 = 6.5;
/// The width of the text column.
const TEXT_WIDTH: f32 = PAGE_WIDTH - 2.0 * MARGIN_X;
/// The slant of the oblique style (the tangent of about 11 degrees).
const OBLIQUE_SLANT: f32 = 0.2;
/// The outline stroke, in points, that makes the bold style.
const BOLD_STROKE: f32 = 0.35;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Font {
    Regular,
    Bold,
    /// Free text awaiting translation.
    Oblique,
}

/// One glyph as shaped: its id, advance and offsets in thousandths of the font size,
/// and the text it stands for (empty for the second glyph of a cluster).
#[derive(Debug, Clone)]
struct Glyph {
    id: u16,
    advance: f32,
    x_offset: f32,
    y_offset: f32,
    text: Range<usize>,
}

/// The embedded font, parsed, with what shaping needs.
struct Shaper<'f> {
    face: Face<'f>,
    /// Font units to thousandths of an em.
    scale: f32,
    /// Bytes of text shaped so far: the work a letter costs, which tests keep linear.
    shaped_bytes: std::cell::Cell<usize>,
}

impl std::fmt::Debug for Shaper<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Shaper").finish_non_exhaustive()
    }
}

impl Shaper<'static> {
    fn new() -> Result<Self, FormError> {
        let face = Face::from_slice(FONT_PROGRAM, 0).ok_or_else(|| FormError::Font {
            reason: "the embedded font does not parse".to_string(),
        })?;
        let scale = 1000.0 / face.units_per_em() as f32;
        Ok(Shaper {
            face,
            scale,
            shaped_bytes: std::cell::Cell::new(0),
        })
    }
}

impl Shaper<'_> {
    /// Shapes `text` in one direction; glyphs come in visual (left-to-right) order.
    fn shape(&self, text: &str, rtl: bool) -> Vec<Glyph> {
        self.shaped_bytes.set(self.shaped_bytes.get() + text.len());
        let mut buffer = UnicodeBuffer::new();
        buffer.push_str(text);
        buffer.set_direction(if rtl {
            Direction::RightToLeft
        } else {
            Direction::LeftToRight
        });
        buffer.guess_segment_properties();
        buffer.set_cluster_level(BufferClusterLevel::Characters);
        let shaped = rustybuzz::shape(&self.face, &[], buffer);
        let infos = shaped.glyph_infos();
        let positions = shaped.glyph_positions();
        // Cluster starts in logical order, to find where each cluster's text ends.
        let mut starts: Vec<usize> = infos
            .iter()
            .filter_map(|info| usize::try_from(info.cluster).ok())
            .collect();
        starts.sort_unstable();
        starts.dedup();
        // Which cluster starts already gave their text to a glyph; a binary search finds
        // where each cluster ends, so shaping stays linear in the text's length.
        let mut seen = vec![false; text.len() + 1];
        infos
            .iter()
            .zip(positions)
            .map(|(info, position)| {
                let start = usize::try_from(info.cluster).unwrap_or(0).min(text.len());
                let end = starts
                    .get(starts.partition_point(|&next| next <= start))
                    .copied()
                    .unwrap_or(text.len());
                let text = if seen[start] {
                    start..start
                } else {
                    seen[start] = true;
                    start..end
                };
                Glyph {
                    id: u16::try_from(info.glyph_id).unwrap_or(0),
                    advance: position.x_advance as f32 * self.scale,
                    x_offset: position.x_offset as f32 * self.scale,
                    y_offset: position.y_offset as f32 * self.scale,
                    text,
                }
            })
            .collect()
    }

    /// The shaped width of `text` in points at `size`.
    fn width(&self, text: &str, size: f32) -> f32 {
        let rtl = text.chars().any(is_rtl_char);
        self.shape(text, rtl)
            .iter()
            .map(|glyph| glyph.advance)
            .sum::<f32>()
            * size
            / 1000.0
    }

    /// The advance in points at `size` of each character of `word`, shaped once as a
    /// whole: a cluster's advance is put on its first character. Summing a prefix of
    /// these measures that start of the word without shaping it again.
    fn character_advances(&self, word: &str, size: f32) -> Vec<(usize, f32)> {
        let rtl = word.chars().any(is_rtl_char);
        let mut advances: BTreeMap<usize, f32> = BTreeMap::new();
        for glyph in self.shape(word, rtl) {
            *advances.entry(glyph.text.start).or_default() += glyph.advance * size / 1000.0;
        }
        word.char_indices()
            .map(|(index, _)| (index, advances.get(&index).copied().unwrap_or(0.0)))
            .collect()
    }

    /// The advance of glyph `id` in thousandths of an em, as the /W array gives it.
    fn glyph_width(&self, id: u16) -> f32 {
        self.face
            .glyph_hor_advance(rustybuzz::ttf_parser::GlyphId(id))
            .map_or(0.0, |advance| f32::from(advance) * self.scale)
    }

    /// Checks that the font can show every character of `text`, normalising tabs and
    /// carriage returns to spaces, or says which character it cannot.
    fn encode(&self, text: &str, place: &str) -> Result<String, FormError> {
        text.chars()
            .map(|character| match character {
                '\n' | ' ' => Ok(character),
                '\t' | '\r' => Ok(' '),
                // Directional marks and joiners: the shaper handles them.
                '\u{200B}'..='\u{200F}'
                | '\u{202A}'..='\u{202E}'
                | '\u{2060}'..='\u{2069}'
                | '\u{FEFF}' => Ok(character),
                _ if self.face.glyph_index(character).is_some() => Ok(character),
                _ if character.is_whitespace() => Ok(' '),
                _ => Err(FormError::UnsupportedCharacter {
                    character,
                    code_point: u32::from(character),
                    field: place.to_string(),
                }),
            })
            .collect()
    }
}

/// Whether a character belongs to a right-to-left script (Hebrew, Arabic, Syriac,
/// Thaana, N'Ko and their presentation forms), for choosing a word's shaping direction.
fn is_rtl_char(character: char) -> bool {
    matches!(
        character,
        '\u{0590}'..='\u{08FF}' | '\u{FB1D}'..='\u{FDFF}' | '\u{FE70}'..='\u{FEFF}'
    )
}

/// One line of a page: runs of text in logical order starting `indent` steps in from the
/// start margin (the right one for a right-to-left letter), or a rule.
#[derive(Debug, Clone)]
enum Line {
    Text {
        indent: usize,
        size: f32,
        runs: Vec<(Font, String)>,
    },
    Rule,
    Blank,
}

#[derive(Debug)]
struct Layout<'a> {
    shaper: &'a Shaper<'a>,
    lines: Vec<Line>,
}

type Page = Vec<(f32, Line)>;

impl Layout<'_> {
    fn encode(&self, text: &str, place: &str) -> Result<String, FormError> {
        self.shaper.encode(text, place)
    }

    fn blank(&mut self) {
        if !matches!(self.lines.last(), None | Some(Line::Blank)) {
            self.lines.push(Line::Blank);
        }
    }

    /// Wraps runs of text to the page width, at spaces, with a hanging indent.
    fn wrap(&mut self, indent: usize, hanging: usize, size: f32, runs: &[(Font, String)]) {
        let width_at = |indent: usize| (TEXT_WIDTH - indent as f32 * INDENT_WIDTH).max(48.0);
        let space = self.shaper.width(" ", size);
        // Split into words (keeping their font) and explicit line breaks.
        let mut words: Vec<Option<(Font, String)>> = Vec::new();
        for (font, text) in runs {
            for (index, line) in text.split('\n').enumerate() {
                if index > 0 {
                    words.push(None);
                }
                for word in line.split(' ').filter(|w| !w.is_empty()) {
                    words.push(Some((*font, word.to_string())));
                }
            }
        }
        let mut current: Vec<(Font, String)> = Vec::new();
        let mut used = 0.0_f32;
        let mut line_indent = indent;
        let mut flush =
            |current: &mut Vec<(Font, String)>, used: &mut f32, line_indent: &mut usize| {
                self.lines.push(Line::Text {
                    indent: *line_indent,
                    size,
                    runs: std::mem::take(current),
                });
                *used = 0.0;
                *line_indent = indent + hanging;
            };
        for word in words {
            let Some((font, word)) = word else {
                flush(&mut current, &mut used, &mut line_indent);
                continue;
            };
            loop {
                let width = width_at(line_indent);
                let gap = if current.is_empty() { 0.0 } else { space };
                let word_width = self.shaper.width(&word, size);
                if used + gap + word_width <= width + 0.01 {
                    if !current.is_empty() {
                        push_run(&mut current, font, " ");
                    }
                    push_run(&mut current, font, &word);
                    used += gap + word_width;
                    break;
                }
                if !current.is_empty() {
                    flush(&mut current, &mut used, &mut line_indent);
                    continue;
                }
                // A word longer than the line: shape it once and cut it into lines by
                // summing the advances of its characters, so the cost stays linear in
                // the word's length however many lines it fills.
                let advances = self.shaper.character_advances(&word, size);
                let mut piece_start = 0;
                let mut piece_width = 0.0_f32;
                for (index, advance) in advances {
                    let line_width = width_at(line_indent);
                    if piece_width + advance > line_width + 0.01 && index > piece_start {
                        push_run(&mut current, font, &word[piece_start..index]);
                        flush(&mut current, &mut used, &mut line_indent);
                        piece_start = index;
                        piece_width = 0.0;
                    }
                    piece_width += advance;
                }
                // The last piece stays on the line: the next word may follow it.
                push_run(&mut current, font, &word[piece_start..]);
                used = piece_width;
                break;
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

fn push_run(runs: &mut Vec<(Font, String)>, font: Font, text: &str) {
    match runs.last_mut() {
        Some((last, run)) if *last == font => run.push_str(text),
        _ => runs.push((font, text.to_string())),
    }
}

fn inline_runs(
    layout: &Layout<'_>,
    inlines: &[Inline],
    place: &str,
) -> Result<Vec<(Font, String)>, FormError> {
    inlines
        .iter()
        .map(|inline| match inline {
            Inline::Text(text) | Inline::Code(text) => {
                Ok((Font::Regular, layout.encode(text, place)?))
            }
            Inline::Source(text) => Ok((Font::Oblique, layout.encode(text, place)?)),
            // Isolated (first-strong isolate), as `<bdi dir="auto">` in the HTML letter.
            Inline::Name(text) => Ok((
                Font::Regular,
                layout.encode(&format!("\u{2068}{text}\u{2069}"), place)?,
            )),
        })
        .collect()
}

fn lay_out_field(
    layout: &mut Layout<'_>,
    indent: usize,
    field: &Field,
    colon: &str,
    place: &str,
) -> Result<(), FormError> {
    let mut runs = vec![(
        Font::Bold,
        layout.encode(&format!("{}{colon}", field.label), place)?,
    )];
    runs.extend(inline_runs(layout, &field.value, place)?);
    layout.wrap(indent, 4, FONT_SIZE, &runs);
    Ok(())
}

fn lay_out(letter: &Letter, colon: &str, layout: &mut Layout<'_>) -> Result<(), FormError> {
    let place = "heading";
    if let Some(marker) = &letter.urgent_marker {
        let marker = layout.encode(&format!("*** {marker} ***"), place)?;
        layout.wrap(0, 0, 12.0, &[(Font::Bold, marker)]);
    }
    layout.wrap(
        0,
        0,
        13.0,
        &[(Font::Bold, layout.encode(&letter.title, place)?)],
    );
    layout.wrap(
        0,
        0,
        FONT_SIZE,
        &[(Font::Oblique, layout.encode(&letter.subtitle, place)?)],
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
            &[(Font::Bold, layout.encode(&note.title, place)?)],
        );
        layout.wrap(
            0,
            0,
            FONT_SIZE,
            &[(Font::Regular, layout.encode(&note.intro, place)?)],
        );
        for heading in &note.sections {
            layout.wrap(
                2,
                2,
                FONT_SIZE,
                &[(
                    Font::Regular,
                    layout.encode(&format!("- {heading}"), place)?,
                )],
            );
        }
        layout.lines.push(Line::Rule);
    }
    layout.blank();
    layout.wrap(
        0,
        0,
        FONT_SIZE,
        &[(Font::Regular, layout.encode(&letter.opening, "opening")?)],
    );
    for (index, section) in letter.sections.iter().enumerate() {
        let place = section.heading.as_str();
        layout.blank();
        let notice = section.style == SectionStyle::Notice;
        if notice {
            layout.lines.push(Line::Rule);
        }
        let heading = format!("{}. {}", index + 1, section.heading);
        layout.wrap(
            0,
            3,
            FONT_SIZE,
            &[(Font::Bold, layout.encode(&heading, place)?)],
        );
        if let Some(citation) = &section.citation {
            layout.wrap(
                3,
                1,
                FONT_SIZE,
                &[(
                    Font::Regular,
                    layout.encode(&format!("({citation})"), place)?,
                )],
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
        &[(Font::Regular, layout.encode(&letter.closing, "closing")?)],
    );
    for label in [&letter.signature, &letter.signatory] {
        layout.blank();
        layout.blank();
        layout.wrap(
            0,
            0,
            FONT_SIZE,
            &[(Font::Regular, "______________________________".to_string())],
        );
        layout.wrap(
            0,
            0,
            FONT_SIZE,
            &[(Font::Regular, layout.encode(label, "signature")?)],
        );
    }
    Ok(())
}

fn lay_out_block(
    layout: &mut Layout<'_>,
    block: &Block,
    colon: &str,
    place: &str,
) -> Result<(), FormError> {
    match block {
        Block::Subheading(heading) => {
            layout.wrap(
                3,
                0,
                FONT_SIZE,
                &[(Font::Bold, layout.encode(heading, place)?)],
            );
        }
        Block::Paragraph(inlines) => {
            layout.wrap(3, 0, FONT_SIZE, &inline_runs(layout, inlines, place)?)
        }
        Block::SourceText(text) => {
            layout.wrap(
                3,
                0,
                FONT_SIZE,
                &[(Font::Oblique, layout.encode(text, place)?)],
            );
        }
        Block::Fields(fields) => {
            for field in fields {
                lay_out_field(layout, 3, field, colon, place)?;
            }
        }
        Block::Entry { title, fields } => {
            let mut runs = inline_runs(layout, title, place)?;
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
                let mut runs = vec![(Font::Regular, "- ".to_string())];
                runs.extend(inline_runs(layout, item, place)?);
                layout.wrap(3, 2, FONT_SIZE, &runs);
            }
        }
        Block::Table { header, rows } => {
            for (index, row) in rows.iter().enumerate() {
                layout.wrap(3, 0, FONT_SIZE, &[(Font::Bold, format!("{}.", index + 1))]);
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

/// A PDF text string in UTF-16BE with a byte-order mark, for the document information.
fn pdf_text_string(text: &str) -> String {
    let mut out = String::from("<FEFF");
    for unit in text.encode_utf16() {
        let _ = write!(out, "{unit:04X}");
    }
    out.push('>');
    out
}

/// The glyphs a document uses, each under a character id (CID) of its own for each text
/// it stands for: a mirrored glyph (a parenthesis in right-to-left text) stands for a
/// different character than the same glyph unmirrored, and the ToUnicode map is keyed
/// by CID. CID 0 is the missing glyph.
#[derive(Debug, Default)]
struct GlyphUse {
    ids: BTreeMap<(u16, String), u16>,
    /// Glyph id, width and text of CID 1, 2, ...
    cids: Vec<(u16, f32, String)>,
}

impl GlyphUse {
    /// The CID that shows glyph `id` standing for `text`.
    fn cid(&mut self, shaper: &Shaper<'_>, id: u16, text: &str) -> u16 {
        if let Some(cid) = self.ids.get(&(id, text.to_string())) {
            return *cid;
        }
        let Ok(cid) = u16::try_from(self.cids.len() + 1) else {
            return 0;
        };
        self.cids
            .push((id, shaper.glyph_width(id), text.to_string()));
        self.ids.insert((id, text.to_string()), cid);
        cid
    }

    /// The CIDFont's /W array: the widths of CIDs 1, 2, ...
    fn widths(&self) -> String {
        let mut out = String::from("[ 1 [");
        for (_, width, _) in &self.cids {
            let _ = write!(out, " {width:.0}");
        }
        out.push_str(" ] ]");
        out
    }

    /// The CIDToGIDMap stream: two bytes of glyph id per CID, from CID 0.
    fn cid_to_gid(&self) -> Vec<u8> {
        let mut out = vec![0, 0];
        for (id, _, _) in &self.cids {
            out.extend_from_slice(&id.to_be_bytes());
        }
        out
    }

    /// The ToUnicode CMap: glyph id to the UTF-16BE text it stands for.
    fn to_unicode(&self) -> String {
        let entries: Vec<(usize, &str)> = self
            .cids
            .iter()
            .enumerate()
            .filter(|(_, (_, _, text))| !text.is_empty())
            .map(|(index, (_, _, text))| (index + 1, text.as_str()))
            .collect();
        let mut out = String::from(
            "/CIDInit /ProcSet findresource begin\n12 dict begin\nbegincmap\n\
             /CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def\n\
             /CMapName /Adobe-Identity-UCS def\n/CMapType 2 def\n\
             1 begincodespacerange\n<0000> <FFFF>\nendcodespacerange\n",
        );
        for chunk in entries.chunks(100) {
            let _ = writeln!(out, "{} beginbfchar", chunk.len());
            for (id, text) in chunk {
                let _ = write!(out, "<{id:04X}> <");
                for unit in text.encode_utf16() {
                    let _ = write!(out, "{unit:04X}");
                }
                out.push_str(">\n");
            }
            out.push_str("endbfchar\n");
        }
        out.push_str("endcmap\nCMapName currentdict /CMap defineresource pop\nend\nend\n");
        out
    }
}

/// A shaped piece of a line, in visual order.
#[derive(Debug)]
struct Piece {
    font: Font,
    glyphs: Vec<Glyph>,
    text: String,
}

/// Puts a line's runs in visual order (Unicode bidirectional algorithm, with the
/// letter's direction as the paragraph direction) and shapes each directional run.
fn shape_line(shaper: &Shaper<'_>, runs: &[(Font, String)], rtl: bool) -> Vec<Piece> {
    let mut text = String::new();
    let mut spans: Vec<(Range<usize>, Font)> = Vec::new();
    for (font, run) in runs {
        let start = text.len();
        // Free text is isolated (first-strong isolate), as `dir="auto"` does in HTML: its
        // own direction, and a direction control in it, stop at its end.
        let isolated = *font == Font::Oblique;
        if isolated {
            text.push('\u{2068}');
        }
        text.push_str(run);
        if isolated {
            text.push('\u{2069}');
        }
        spans.push((start..text.len(), *font));
    }
    let base = if rtl { Level::rtl() } else { Level::ltr() };
    let bidi = ParagraphBidiInfo::new(&text, Some(base));
    let (levels, level_runs) = bidi.visual_runs(0..text.len());
    let mut pieces = Vec::new();
    for run in level_runs {
        let run_rtl = levels.get(run.start).is_some_and(|level| level.is_rtl());
        let mut parts: Vec<(Range<usize>, Font)> = spans
            .iter()
            .filter_map(|(span, font)| {
                let start = span.start.max(run.start);
                let end = span.end.min(run.end);
                (start < end).then_some((start..end, *font))
            })
            .collect();
        if run_rtl {
            parts.reverse();
        }
        for (range, font) in parts {
            let Some(part) = text.get(range) else {
                continue;
            };
            pieces.push(Piece {
                font,
                glyphs: shaper.shape(part, run_rtl),
                text: part.to_string(),
            });
        }
    }
    pieces
}

/// Writes one line of text at `y`, starting `start` points from the start margin.
fn write_line(
    content: &mut String,
    shaper: &Shaper<'_>,
    used: &mut GlyphUse,
    line: (f32, f32, f32),
    runs: &[(Font, String)],
    rtl: bool,
) {
    let (start, y, size) = line;
    let pieces = shape_line(shaper, runs, rtl);
    let width: f32 = pieces
        .iter()
        .flat_map(|piece| &piece.glyphs)
        .map(|glyph| glyph.advance * size / 1000.0)
        .sum();
    let mut x = if rtl {
        PAGE_WIDTH - MARGIN_X - start - width
    } else {
        MARGIN_X + start
    };
    let _ = write!(content, "BT /F1 {size:.1} Tf ");
    for piece in &pieces {
        let (render, slant) = match piece.font {
            Font::Regular => ("0 Tr", 0.0),
            Font::Bold => ("2 Tr", 0.0),
            Font::Oblique => ("0 Tr", OBLIQUE_SLANT),
        };
        let _ = write!(content, "{render} 1 0 {slant:.2} 1 {x:.2} {y:.2} Tm 0 Ts [");
        // Positions in thousandths of the font size: where the shaper puts each glyph,
        // and where the PDF pen is after the previous one.
        let mut pen = 0.0_f32;
        let mut pdf_pen = 0.0_f32;
        let mut rise = 0.0_f32;
        for glyph in &piece.glyphs {
            if (glyph.y_offset - rise).abs() > 0.5 {
                rise = glyph.y_offset;
                let _ = write!(content, "] TJ {:.2} Ts [", rise * size / 1000.0);
            }
            let target = pen + glyph.x_offset;
            let adjust = pdf_pen - target;
            if adjust.abs() > 0.05 {
                let _ = write!(content, "{adjust:.1}");
            }
            let text = piece.text.get(glyph.text.clone()).unwrap_or("");
            let _ = write!(content, "<{:04X}>", used.cid(shaper, glyph.id, text));
            pdf_pen = target + shaper.glyph_width(glyph.id);
            pen += glyph.advance;
        }
        content.push_str("] TJ ");
        x += pen * size / 1000.0;
    }
    content.push_str("ET\n");
}

fn page_content(
    shaper: &Shaper<'_>,
    used: &mut GlyphUse,
    page: &Page,
    footer: &str,
    rtl: bool,
) -> String {
    let mut content = format!("{BOLD_STROKE:.2} w\n");
    for (y, line) in page {
        match line {
            Line::Text { indent, size, runs } => {
                let start = *indent as f32 * INDENT_WIDTH;
                write_line(&mut content, shaper, used, (start, *y, *size), runs, rtl);
            }
            Line::Rule => {
                let y = y + LINE_HEIGHT * 0.3;
                let _ = writeln!(
                    content,
                    "0.6 w {MARGIN_X:.2} {y:.2} m {:.2} {y:.2} l S {BOLD_STROKE:.2} w",
                    PAGE_WIDTH - MARGIN_X
                );
            }
            Line::Blank => {}
        }
    }
    let footer = [(Font::Regular, footer.to_string())];
    write_line(
        &mut content,
        shaper,
        used,
        (0.0, MARGIN_BOTTOM - 30.0, 8.0),
        &footer,
        false,
    );
    content
}

/// A stream object: its dictionary entries, then the data.
fn stream(dictionary: &str, data: &[u8]) -> Vec<u8> {
    let mut out = format!("<< {dictionary} /Length {} >>\nstream\n", data.len()).into_bytes();
    out.extend_from_slice(data);
    out.extend_from_slice(b"\nendstream");
    out
}

fn write_pdf(
    shaper: &Shaper<'_>,
    title: &str,
    pages: &[Page],
    request_id: &str,
    rtl: bool,
) -> Vec<u8> {
    // Objects: 1 catalog, 2 pages, 3 font, 4 CIDFont, 5 font descriptor, 6 info,
    // 7 font program, 8 ToUnicode map, 9 CIDToGIDMap, then a page and its content per
    // page.
    let first_page = 10;
    let mut used = GlyphUse::default();
    let mut page_objects: Vec<Vec<u8>> = Vec::new();
    for (index, page) in pages.iter().enumerate() {
        let footer = format!("{request_id}  {}/{}", index + 1, pages.len());
        let content = page_content(shaper, &mut used, page, &footer, rtl);
        page_objects.push(
            format!(
                "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 {PAGE_WIDTH} {PAGE_HEIGHT}] \
                 /Resources << /Font << /F1 3 0 R >> >> /Contents {} 0 R >>",
                first_page + 2 * index + 1
            )
            .into_bytes(),
        );
        page_objects.push(stream("", content.as_bytes()));
    }

    let face = &shaper.face;
    let scaled = |value: i16| (f32::from(value) * shaper.scale).round();
    let bbox = face.global_bounding_box();
    let ascent = scaled(face.ascender());
    let descent = scaled(face.descender());
    let cap_height = face.capital_height().map_or(ascent, scaled);

    let kids: Vec<String> = (0..pages.len())
        .map(|index| format!("{} 0 R", first_page + 2 * index))
        .collect();
    let mut objects: Vec<Vec<u8>> = vec![
        b"<< /Type /Catalog /Pages 2 0 R >>".to_vec(),
        format!(
            "<< /Type /Pages /Kids [{}] /Count {} >>",
            kids.join(" "),
            pages.len()
        )
        .into_bytes(),
        format!(
            "<< /Type /Font /Subtype /Type0 /BaseFont /{FONT_NAME} /Encoding /Identity-H \
             /DescendantFonts [4 0 R] /ToUnicode 8 0 R >>"
        )
        .into_bytes(),
        format!(
            "<< /Type /Font /Subtype /CIDFontType2 /BaseFont /{FONT_NAME} \
             /CIDSystemInfo << /Registry (Adobe) /Ordering (Identity) /Supplement 0 >> \
             /FontDescriptor 5 0 R /CIDToGIDMap 9 0 R /DW 0 /W {} >>",
            used.widths()
        )
        .into_bytes(),
        format!(
            "<< /Type /FontDescriptor /FontName /{FONT_NAME} /Flags 32 \
             /FontBBox [{} {} {} {}] /ItalicAngle 0 /Ascent {ascent} /Descent {descent} \
             /CapHeight {cap_height} /StemV 80 /FontFile2 7 0 R >>",
            scaled(bbox.x_min),
            scaled(bbox.y_min),
            scaled(bbox.x_max),
            scaled(bbox.y_max),
        )
        .into_bytes(),
        format!(
            "<< /Title {} /Producer (Comity comity-forms) >>",
            pdf_text_string(title)
        )
        .into_bytes(),
        stream(&format!("/Length1 {}", FONT_PROGRAM.len()), FONT_PROGRAM),
        stream("", used.to_unicode().as_bytes()),
        stream("", &used.cid_to_gid()),
    ];
    objects.extend(page_objects);

    let mut out: Vec<u8> = b"%PDF-1.4\n%\xE2\xE3\xCF\xD3\n".to_vec();
    let mut offsets = Vec::with_capacity(objects.len());
    for (index, object) in objects.iter().enumerate() {
        offsets.push(out.len());
        out.extend_from_slice(format!("{} 0 obj\n", index + 1).as_bytes());
        out.extend_from_slice(object);
        out.extend_from_slice(b"\nendobj\n");
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

#[cfg(test)]
mod tests {
    use super::*;

    fn wrapped(word: &str) -> (Vec<String>, usize) {
        let shaper = Shaper::new().expect("the embedded font parses");
        let mut layout = Layout {
            shaper: &shaper,
            lines: Vec::new(),
        };
        layout.wrap(1, 2, FONT_SIZE, &[(Font::Regular, word.to_string())]);
        let lines = layout
            .lines
            .iter()
            .map(|line| match line {
                Line::Text { runs, .. } => runs.iter().map(|(_, text)| text.as_str()).collect(),
                Line::Rule | Line::Blank => String::new(),
            })
            .collect();
        (lines, shaper.shaped_bytes.get())
    }

    #[test]
    fn a_direction_control_in_free_text_stops_at_its_end() {
        let shaper = Shaper::new().expect("the embedded font parses");
        let runs = [
            (Font::Oblique, "\u{202E}desrever".to_string()),
            (Font::Regular, " Nationality".to_string()),
        ];
        let pieces = shape_line(&shaper, &runs, false);
        let position = |needle: &str| pieces.iter().position(|piece| piece.text.contains(needle));
        let (Some(free_text), Some(label)) = (position("desrever"), position("Nationality")) else {
            panic!("both runs are shaped: {pieces:?}");
        };
        assert!(
            free_text < label,
            "the label after the free text keeps its place: {pieces:?}"
        );
        // The isolating marks take no room and show nothing.
        let width = |runs: &[(Font, String)]| -> f32 {
            shape_line(&shaper, runs, false)
                .iter()
                .flat_map(|piece| &piece.glyphs)
                .map(|glyph| glyph.advance)
                .sum()
        };
        let isolated = width(&[(Font::Oblique, "Tanger".to_string())]);
        let plain = width(&[(Font::Regular, "Tanger".to_string())]);
        assert!((isolated - plain).abs() < 0.01, "{isolated} vs {plain}");
        let shown = shape_line(&shaper, &[(Font::Oblique, "Tanger".to_string())], false);
        assert!(
            shown
                .iter()
                .flat_map(|piece| &piece.glyphs)
                .all(|glyph| glyph.id != 0),
            "no missing-glyph box: {shown:?}"
        );
    }

    #[test]
    fn a_long_word_is_cut_into_lines_with_work_linear_in_its_length() {
        for (letter, length) in [("x", 2_000), ("x", 20_000), ("م", 20_000), ("W", 20_000)] {
            let word = letter.repeat(length);
            let (lines, shaped_bytes) = wrapped(&word);
            assert!(lines.len() > 1, "{letter} x {length} fills several lines");
            assert_eq!(lines.concat(), word, "nothing is lost or added");
            // Shaping the word whole once to measure it and once to cut it: two passes,
            // whatever the number of lines (the old code reshaped the rest per line).
            assert!(
                shaped_bytes <= 2 * word.len() + 8,
                "{letter} x {length}: {shaped_bytes} bytes shaped for a {}-byte word",
                word.len()
            );
            let shaper = Shaper::new().expect("font");
            for line in &lines[..lines.len() - 1] {
                assert!(
                    shaper.width(line, FONT_SIZE) <= TEXT_WIDTH + 0.5,
                    "each full line fits the column"
                );
            }
        }
    }

    #[test]
    fn short_words_still_wrap_at_spaces() {
        let text = "alpha beta gamma ".repeat(40);
        let (lines, _) = wrapped(&text);
        assert!(lines.len() > 2);
        assert!(lines.iter().all(|line| !line.starts_with(' ')));
        assert_eq!(
            lines.join(" ").split(' ').collect::<Vec<_>>(),
            text.split(' ')
                .filter(|w| !w.is_empty())
                .collect::<Vec<_>>()
        );
    }
}
