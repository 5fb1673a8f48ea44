//! Learning-curve plots (SVG, with plotters), redrawn every iteration.

use std::path::Path;

use anyhow::{anyhow, Result};
use plotters::prelude::*;

use super::metrics::Row;

/// One chart: a title, a y-axis label and the columns drawn against `x_column`.
pub struct Chart<'a> {
    pub file: &'a str,
    pub title: &'a str,
    pub y_label: &'a str,
    pub columns: Vec<String>,
}

const COLORS: [RGBColor; 8] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(214, 39, 40),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
    RGBColor(227, 119, 194),
    RGBColor(127, 127, 127),
];

/// Draws `chart` from `rows` into `dir/chart.file`; columns with no values are skipped. Returns
/// whether anything was drawn.
pub fn draw(dir: &Path, rows: &[Row], x_column: &str, chart: &Chart<'_>) -> Result<bool> {
    let series: Vec<(String, Vec<(f64, f64)>)> = chart
        .columns
        .iter()
        .map(|c| {
            (c.clone(), rows.iter().filter_map(|r| Some((r.get(x_column)?, r.get(c)?))).collect::<Vec<_>>())
        })
        .filter(|(_, pts)| !pts.is_empty())
        .collect();
    if series.is_empty() {
        return Ok(false);
    }
    let xs = series.iter().flat_map(|(_, p)| p.iter().map(|q| q.0));
    let ys = series.iter().flat_map(|(_, p)| p.iter().map(|q| q.1));
    let (x0, x1) = bounds(xs);
    let (y0, y1) = bounds(ys);
    let path = dir.join(chart.file);
    let tmp = dir.join(format!("{}.tmp.svg", chart.file));
    {
        let root = SVGBackend::new(&tmp, (720, 420)).into_drawing_area();
        root.fill(&WHITE).map_err(|e| anyhow!("{e}"))?;
        let mut c = ChartBuilder::on(&root)
            .caption(chart.title, ("sans-serif", 20))
            .margin(12)
            .x_label_area_size(36)
            .y_label_area_size(56)
            .build_cartesian_2d(x0..x1, y0..y1)
            .map_err(|e| anyhow!("{e}"))?;
        c.configure_mesh().x_desc(x_column).y_desc(chart.y_label).draw().map_err(|e| anyhow!("{e}"))?;
        draw_lines(&mut c, &series)?;
        root.present().map_err(|e| anyhow!("{e}"))?;
    }
    std::fs::rename(&tmp, &path)?;
    Ok(true)
}

/// One line with points per series, and the legend.
fn draw_lines<'a, DB, X, Y>(
    c: &mut ChartContext<'a, DB, Cartesian2d<X, Y>>,
    series: &[(String, Vec<(f64, f64)>)],
) -> Result<()>
where
    DB: DrawingBackend + 'a,
    X: Ranged<ValueType = f64>,
    Y: Ranged<ValueType = f64>,
{
    for (i, (name, pts)) in series.iter().enumerate() {
        let color = COLORS[i % COLORS.len()];
        c.draw_series(LineSeries::new(pts.iter().copied(), color.stroke_width(2)))
            .map_err(|e| anyhow!("{e}"))?
            .label(name.as_str())
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 16, y)], color.stroke_width(2)));
        c.draw_series(pts.iter().map(|&p| Circle::new(p, 3, color.filled()))).map_err(|e| anyhow!("{e}"))?;
    }
    c.configure_series_labels()
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .position(SeriesLabelPosition::LowerRight)
        .draw()
        .map_err(|e| anyhow!("{e}"))?;
    Ok(())
}

fn bounds(v: impl Iterator<Item = f64>) -> (f64, f64) {
    let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
    for x in v {
        lo = lo.min(x);
        hi = hi.max(x);
    }
    if !lo.is_finite() {
        return (0.0, 1.0);
    }
    if (hi - lo).abs() < 1e-9 {
        return (lo - 0.5, hi + 0.5);
    }
    let pad = (hi - lo) * 0.05;
    (lo - pad, hi + pad)
}

/// Draws a log-x chart of `(compute, metric)` series, one line per method, for `compare`.
pub fn draw_log_x(
    path: &Path,
    title: &str,
    x_label: &str,
    y_label: &str,
    series: &[(String, Vec<(f64, f64)>)],
) -> Result<()> {
    let xs: Vec<f64> = series.iter().flat_map(|(_, p)| p.iter().map(|q| q.0.max(1e-9))).collect();
    let (x0, x1) = (xs.iter().copied().fold(f64::INFINITY, f64::min), xs.iter().copied().fold(0.0, f64::max));
    let (x0, x1) = if x0.is_finite() && x1 > x0 { (x0 * 0.8, x1 * 1.25) } else { (1.0, 10.0) };
    let tmp = path.with_extension("tmp.svg");
    {
        let root = SVGBackend::new(&tmp, (760, 460)).into_drawing_area();
        root.fill(&WHITE).map_err(|e| anyhow!("{e}"))?;
        let mut c = ChartBuilder::on(&root)
            .caption(title, ("sans-serif", 20))
            .margin(12)
            .x_label_area_size(40)
            .y_label_area_size(56)
            .build_cartesian_2d((x0..x1).log_scale(), 0.0f64..1.05)
            .map_err(|e| anyhow!("{e}"))?;
        c.configure_mesh()
            .x_desc(x_label)
            .y_desc(y_label)
            .x_labels(8)
            .x_label_formatter(&|x| compact(*x))
            .draw()
            .map_err(|e| anyhow!("{e}"))?;
        draw_lines(&mut c, series)?;
        root.present().map_err(|e| anyhow!("{e}"))?;
    }
    std::fs::rename(&tmp, path)?;
    Ok(())
}

/// A short tick label: `3`, `40`, `1.2k`, `35k`, `2.1M`.
fn compact(x: f64) -> String {
    let a = x.abs();
    if a >= 1e6 {
        format!("{:.1}M", x / 1e6)
    } else if a >= 1e4 {
        format!("{:.0}k", x / 1e3)
    } else if a >= 1e3 {
        format!("{:.1}k", x / 1e3)
    } else if a >= 10.0 || x.fract() == 0.0 {
        format!("{x:.0}")
    } else {
        format!("{x:.1}")
    }
}
