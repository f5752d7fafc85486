//! Bar charts drawn on the server as inline SVG by the `plotters` crate
//! (its SVG backend only: no bitmap, no font file — the text is written as
//! `<text>` elements in the generic `sans-serif` family, which the browser
//! draws with its own fonts, and colours as presentation attributes, never
//! `style`, which the pages' CSP forbids).
//!
//! Each chart is an `<svg role="img">` named by its `<title>` (what it
//! shows, with every figure), so a screen reader reads one sentence; the
//! page shows the same figures in a table beside it. The `<svg>` keeps its
//! `viewBox` and the stylesheet scales it to the width of the page.

use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

/// Why a chart could not be drawn (into memory: only a bug of the chart).
#[derive(Debug, thiserror::Error)]
#[error("graphique impossible à dessiner : {0}")]
pub struct ChartError(String);

fn failed(error: impl std::fmt::Display) -> ChartError {
    ChartError(error.to_string())
}

/// The bars' colour: dark blue, 8.6:1 on white (WCAG's 3:1 for graphics).
const BAR: RGBColor = RGBColor(0x1d, 0x4f, 0x91);

/// The size of the text, in SVG units (plotters writes 1/1.24 of it).
const FONT: u32 = 16;

/// The last index of the category axis: plotters' discrete range `0..n`
/// holds `n + 1` values, and one value alone makes it draw nothing (an
/// empty segment then follows a single bar).
fn segments(count: usize) -> usize {
    count.max(2) - 1
}

/// The width of a chart, in SVG units (pixels at 100 %).
const WIDTH: u32 = 720;

/// A bar chart: one bar per labelled value.
pub struct Bars<'a> {
    /// The id of the chart's `<title>` (unique in the page).
    pub id: &'a str,
    /// What the chart shows, with its figures: its accessible name.
    pub title: &'a str,
    /// What the values count (the value axis's legend).
    pub axis: &'a str,
    /// The bars: label, value, value as written above the bar.
    pub bars: Vec<(String, f64, String)>,
    /// The top of the value axis; the largest value (at least 1) when none.
    pub max: Option<f64>,
}

impl Bars<'_> {
    /// The top of the value axis: the fixed maximum, or a whole number
    /// leaving room above the highest bar for its value.
    fn top(&self) -> f64 {
        self.max.unwrap_or_else(|| {
            let highest = self
                .bars
                .iter()
                .map(|(_, value, _)| *value)
                .fold(1.0, f64::max);
            (highest * 1.15).ceil().max(highest + 1.0)
        })
    }

    /// How many ticks the value axis asks for: one a unit for small
    /// counts, else six.
    fn ticks(&self) -> usize {
        let top = self.top();
        if top < 6.0 { top as usize + 1 } else { 6 }
    }

    /// The chart with vertical bars, labels under them.
    ///
    /// # Errors
    /// [`ChartError`] if plotters fails, which drawing into memory does
    /// not.
    pub fn vertical(&self) -> Result<String, ChartError> {
        let mut svg = String::new();
        let count = self.bars.len().max(1);
        let top = self.top();
        {
            let root = SVGBackend::with_string(&mut svg, (WIDTH, 320)).into_drawing_area();
            root.fill(&WHITE).map_err(failed)?;
            let mut chart = ChartBuilder::on(&root)
                .margin(12)
                .x_label_area_size(44)
                .y_label_area_size(64)
                .build_cartesian_2d((0..segments(count)).into_segmented(), 0.0..top)
                .map_err(failed)?;
            chart
                .configure_mesh()
                .disable_x_mesh()
                .x_labels(count)
                .x_label_formatter(&|value| match value {
                    SegmentValue::CenterOf(i) => self
                        .bars
                        .get(*i)
                        .map(|(label, _, _)| label.clone())
                        .unwrap_or_default(),
                    _ => String::new(),
                })
                .y_labels(self.ticks())
                .y_label_formatter(&whole)
                .y_desc(self.axis)
                .label_style(("sans-serif", FONT))
                .axis_desc_style(("sans-serif", FONT))
                .light_line_style(TRANSPARENT)
                .bold_line_style(RGBColor(0xe4, 0xe4, 0xe4))
                .draw()
                .map_err(failed)?;
            chart
                .draw_series(
                    Histogram::vertical(&chart)
                        .style(BAR.filled())
                        .margin(12)
                        .data(self.bars.iter().enumerate().map(|(i, (_, v, _))| (i, *v))),
                )
                .map_err(failed)?;
            let style = TextStyle::from(("sans-serif", FONT).into_font())
                .pos(Pos::new(HPos::Center, VPos::Bottom));
            chart
                .draw_series(self.bars.iter().enumerate().map(|(i, (_, value, text))| {
                    EmptyElement::at((SegmentValue::CenterOf(i), *value))
                        + Text::new(text.clone(), (0, -4), style.clone())
                }))
                .map_err(failed)?;
            root.present().map_err(failed)?;
        }
        Ok(self.named(&svg))
    }

    /// The chart with horizontal bars, labels on their left (for long
    /// labels: the statuses).
    ///
    /// # Errors
    /// As [`Bars::vertical`].
    pub fn horizontal(&self) -> Result<String, ChartError> {
        let mut svg = String::new();
        let count = self.bars.len().max(1);
        // The first bar at the top: plotters counts upwards.
        let last = count - 1;
        let top = self.top();
        let longest = self
            .bars
            .iter()
            .map(|(label, _, _)| label.chars().count())
            .max()
            .unwrap_or(0);
        // plotters estimates 0.7 em a character.
        let label_width = u32::try_from(longest * 9 + 16)
            .unwrap_or(u32::MAX)
            .clamp(80, 320);
        let height = u32::try_from(count * 36 + 70).unwrap_or(u32::MAX).min(1200);
        {
            let root = SVGBackend::with_string(&mut svg, (WIDTH, height)).into_drawing_area();
            root.fill(&WHITE).map_err(failed)?;
            let mut chart = ChartBuilder::on(&root)
                .margin(12)
                .x_label_area_size(44)
                .y_label_area_size(label_width)
                .build_cartesian_2d(0.0..top, (0..segments(count)).into_segmented())
                .map_err(failed)?;
            chart
                .configure_mesh()
                .disable_y_mesh()
                .y_labels(count)
                .y_label_formatter(&|value| match value {
                    SegmentValue::CenterOf(at) => last
                        .checked_sub(*at)
                        .and_then(|i| self.bars.get(i))
                        .map(|(label, _, _)| label.clone())
                        .unwrap_or_default(),
                    _ => String::new(),
                })
                .x_labels(self.ticks())
                .x_label_formatter(&whole)
                .x_desc(self.axis)
                .label_style(("sans-serif", FONT))
                .axis_desc_style(("sans-serif", FONT))
                .light_line_style(TRANSPARENT)
                .bold_line_style(RGBColor(0xe4, 0xe4, 0xe4))
                .draw()
                .map_err(failed)?;
            chart
                .draw_series(
                    Histogram::horizontal(&chart)
                        .style(BAR.filled())
                        .margin(8)
                        .data(
                            self.bars
                                .iter()
                                .enumerate()
                                .map(|(i, (_, v, _))| (last - i, *v)),
                        ),
                )
                .map_err(failed)?;
            let style = TextStyle::from(("sans-serif", FONT).into_font())
                .pos(Pos::new(HPos::Left, VPos::Center));
            chart
                .draw_series(self.bars.iter().enumerate().map(|(i, (_, value, text))| {
                    EmptyElement::at((*value, SegmentValue::CenterOf(last - i)))
                        + Text::new(text.clone(), (4, 0), style.clone())
                }))
                .map_err(failed)?;
            root.present().map_err(failed)?;
        }
        Ok(self.named(&svg))
    }

    /// The SVG as an image named by its title, scaled by the stylesheet.
    fn named(&self, svg: &str) -> String {
        let title = escaped(self.title);
        let id = escaped(self.id);
        let body = svg.strip_prefix("<svg ").unwrap_or(svg);
        let (attributes, rest) = body.split_once('>').unwrap_or((body, ""));
        format!(
            "<svg class=\"chart\" role=\"img\" aria-labelledby=\"{id}\" focusable=\"false\" {attributes}><title id=\"{id}\">{title}</title>{rest}"
        )
    }
}

/// A tick's value when it is a whole number (counts and percentages have
/// no fractional ticks), else nothing.
fn whole(value: &f64) -> String {
    if (value - value.round()).abs() < 1e-9 {
        format!("{value:.0}")
    } else {
        String::new()
    }
}

/// `text` safe in XML text and attributes.
fn escaped(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            other => out.push(other),
        }
    }
    out
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn chart() -> Bars<'static> {
        Bars {
            id: "graphique-test",
            title: "Deux barres <3 & 5>",
            axis: "Demandes",
            bars: vec![
                ("Demande transmise".to_owned(), 3.0, "3".to_owned()),
                ("Traitée".to_owned(), 5.0, "5".to_owned()),
            ],
            max: None,
        }
    }

    #[test]
    fn one_bar_is_drawn_in_the_chart() {
        let mut one = chart();
        one.bars.truncate(1);
        for svg in [one.vertical().unwrap(), one.horizontal().unwrap()] {
            // A bar of positive size, its value written.
            assert!(svg.contains("fill=\"#1D4F91\""), "{svg}");
            assert!(
                !svg.contains("height=\"-") && !svg.contains("width=\"-"),
                "{svg}"
            );
            assert!(svg.contains(">\n3\n</text>"), "{svg}");
        }
    }

    #[test]
    fn a_chart_is_an_image_named_by_its_title_with_its_text() {
        for svg in [chart().vertical().unwrap(), chart().horizontal().unwrap()] {
            assert!(
                svg.starts_with(
                    "<svg class=\"chart\" role=\"img\" aria-labelledby=\"graphique-test\""
                ),
                "{svg}"
            );
            assert!(
                svg.contains("<title id=\"graphique-test\">Deux barres &lt;3 &amp; 5&gt;</title>")
            );
            assert!(svg.contains("viewBox=\"0 0 720 "), "{svg}");
            // plotters writes each text on its own line.
            assert!(svg.contains(">\nDemande transmise\n</text>"), "{svg}");
            assert!(svg.contains(">\n5\n</text>"), "{svg}");
            assert!(!svg.contains("style="), "no inline style (CSP): {svg}");
            assert_eq!(svg.matches("<svg").count(), 1);
            assert!(svg.trim_end().ends_with("</svg>"));
        }
    }
}
