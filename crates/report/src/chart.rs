//! Charts as data, and their one renderer: inline SVG in a `<figure>`, no
//! script, no network. Charts fill the page width (up to 1,200 px), axes
//! carry units and round ticks, time of day reads as HH:MM, and series
//! differ by colour and dash (40 distinguishable styles), with the legend
//! as HTML under the chart so names are never cut. A report holds
//! [`Chart`]s; only this module turns them into pixels.

use clearsim_core::format::money_short;

/// A chart of a report.
pub enum Chart {
    /// Lines (with optional bands) over two axes.
    Lines(Lines),
    /// One row per label, one dot per series, money along x.
    Dots(Dots),
    /// One stacked bar per label, money along x.
    Bars(Bars),
    /// One row per label, one estimate (mean and 95 % interval) per
    /// series, a signed duration along x.
    Intervals(Intervals),
    /// A matrix of money: one row and one column per label, the shade of
    /// a cell its value.
    Heatmap(Heatmap),
}

impl Chart {
    pub fn title(&self) -> &str {
        match self {
            Chart::Lines(c) => &c.title,
            Chart::Dots(c) => &c.title,
            Chart::Bars(c) => &c.title,
            Chart::Intervals(c) => &c.title,
            Chart::Heatmap(c) => &c.title,
        }
    }

    /// The chart as an HTML `<figure>`: caption, SVG, legend.
    pub fn figure(&self) -> String {
        let (svg, names): (String, Vec<String>) = match self {
            Chart::Lines(c) => (c.svg(), c.legend_names()),
            Chart::Dots(c) => (c.svg(), c.series.iter().map(|s| s.0.clone()).collect()),
            Chart::Bars(c) => (
                c.svg(),
                c.bars
                    .first()
                    .map(|(_, parts)| parts.iter().map(|p| p.0.clone()).collect())
                    .unwrap_or_default(),
            ),
            Chart::Intervals(c) => (c.svg(), c.series.iter().map(|s| s.0.clone()).collect()),
            Chart::Heatmap(c) => return figure(self.title(), &c.svg(), &c.scale()),
        };
        figure(
            self.title(),
            &svg,
            &legend(names.iter().map(String::as_str)),
        )
    }
}

/// Tableau's ten colours, then dashes: 40 distinguishable series.
const COLOURS: [&str; 10] = [
    "#4e79a7", "#e15759", "#59a14f", "#f28e2b", "#b07aa1", "#76b7b2", "#edc948", "#9c755f",
    "#ff9da7", "#3b3b3b",
];
const DASHES: [&str; 4] = ["", "8 4", "2 3", "10 3 2 3"];

/// The colour and dash of series `index`.
fn style(index: usize) -> (&'static str, &'static str) {
    (
        COLOURS[index % COLOURS.len()],
        DASHES[(index / COLOURS.len()) % DASHES.len()],
    )
}

/// The least span of a share axis (5 percentage points).
const MIN_SHARE_SPAN: f64 = 0.05;

/// Where zero goes on a log duration axis (its mapped value).
const ZERO_ON_LOG: f64 = -0.5;

/// How an axis maps and labels its values.
#[derive(Clone, Copy, Debug)]
pub enum Axis {
    /// Milliseconds of the business day, ticked HH:MM.
    Clock,
    /// A duration in ms on a log scale, ticked 1 s, 10 s, 1 min, 10 min, 1 h…
    /// Zero (nothing in transit: settled on entry) has a place of its own,
    /// half a decade below 1 ms, ticked "0": a log scale has no zero, and
    /// drawing it as 1 ms would claim a delay there was not.
    LogDuration,
    /// Fen, ticked at 1-2-5 steps in yuan (k, M, bn).
    Money,
    /// Fen on a log scale (amounts that span decades), ticked at each
    /// power of ten in yuan.
    LogMoney,
    /// A plain number, ticked at 1-2-5 steps.
    Number,
    /// A count (rounds, days): whole-number ticks only.
    Count,
    /// A share, ticked in %.
    Share,
    /// A percentile q in [0, 1) on the HDR scale log(1/(1−q)).
    Percentile,
}

impl Axis {
    fn map(self, v: f64) -> f64 {
        match self {
            Axis::LogDuration if v < 1.0 => ZERO_ON_LOG,
            Axis::LogDuration => v.log10(),
            Axis::LogMoney => v.max(1.0).log10(),
            Axis::Percentile => (1.0 / (1.0 - v.min(0.99999))).log10(),
            _ => v,
        }
    }

    /// Ticks (value, label) covering `[low, high]` (values, not mapped).
    fn ticks(self, low: f64, high: f64) -> Vec<(f64, String)> {
        match self {
            Axis::Clock => clock_ticks(low, high),
            Axis::LogDuration => {
                const STEPS: [(f64, &str); 14] = [
                    (0.0, "0"),
                    (1.0, "1 ms"),
                    (10.0, "10 ms"),
                    (100.0, "0.1 s"),
                    (1e3, "1 s"),
                    (1e4, "10 s"),
                    (6e4, "1 min"),
                    (6e5, "10 min"),
                    (3.6e6, "1 h"),
                    (1.08e7, "3 h"),
                    (3.6e7, "10 h"),
                    (8.64e7, "1 day"),
                    (1.728e8, "2 days"),
                    (2.592e8, "3 days"),
                ];
                STEPS
                    .iter()
                    .filter(|(v, _)| *v >= low * 0.999 && *v <= high * 1.001)
                    .map(|(v, l)| (*v, l.to_string()))
                    .collect()
            }
            Axis::Percentile => [0.0, 0.5, 0.9, 0.99, 0.999, 0.9999]
                .iter()
                .map(|&q| {
                    let label = match q {
                        0.0 => "0%".to_string(),
                        0.5 => "50%".to_string(),
                        _ => format!("{}%", q * 100.0),
                    };
                    (q, label)
                })
                .collect(),
            Axis::LogMoney => {
                let (from, to) = (low.max(1.0).log10().floor(), high.max(1.0).log10().ceil());
                (from as i32..=to as i32)
                    .map(|e| 10f64.powi(e))
                    .filter(|v| *v >= low * 0.999 && *v <= high * 1.001)
                    .map(|v| (v, money_short(v)))
                    .collect()
            }
            Axis::Money => nice_ticks(low, high)
                .into_iter()
                .map(|v| (v, money_short(v)))
                .collect(),
            Axis::Share => nice_ticks(low, high)
                .into_iter()
                .map(|v| (v, format!("{}%", trim_number(v * 100.0))))
                .collect(),
            Axis::Number => nice_ticks(low, high)
                .into_iter()
                .map(|v| (v, trim_number(v)))
                .collect(),
            Axis::Count => {
                let mut ticks: Vec<f64> = nice_ticks(low, high)
                    .into_iter()
                    .filter(|v| v.fract() == 0.0)
                    .collect();
                if ticks.len() < 2 {
                    // A short range: every whole number in it (at most 13).
                    ticks = (0..=12)
                        .map(|k| low.ceil() + f64::from(k))
                        .take_while(|v| *v <= high)
                        .collect();
                }
                ticks.into_iter().map(|v| (v, trim_number(v))).collect()
            }
        }
    }
}

fn trim_number(v: f64) -> String {
    let text = format!("{v:.4}");
    let text = text.trim_end_matches('0').trim_end_matches('.');
    if text == "-0" {
        "0".into()
    } else {
        text.into()
    }
}

/// Round ticks at 1-2-5 steps covering `[low, high]`, about five of them.
pub fn nice_ticks(low: f64, high: f64) -> Vec<f64> {
    let span = (high - low).max(f64::MIN_POSITIVE);
    let raw = span / 5.0;
    let magnitude = 10f64.powf(raw.log10().floor());
    let step = [1.0, 2.0, 2.5, 5.0, 10.0]
        .iter()
        .map(|m| m * magnitude)
        .find(|s| span / s <= 6.0)
        .unwrap_or(10.0 * magnitude);
    let first = (low / step).ceil() * step;
    (0..=12)
        .map(|i| first + step * f64::from(i))
        .take_while(|v| *v <= high + step * 1e-9)
        .collect()
}

/// HH:MM ticks at 30 min, 1 h, 2 h or 3 h, whichever gives 4 to 10.
fn clock_ticks(low: f64, high: f64) -> Vec<(f64, String)> {
    let span = high - low;
    let step = [1.8e6, 3.6e6, 7.2e6, 1.08e7]
        .into_iter()
        .find(|s| span / s <= 10.0)
        .unwrap_or(1.08e7);
    let first = (low / step).ceil() * step;
    (0..=48)
        .map(|i| first + step * f64::from(i))
        .take_while(|v| *v <= high + 1.0)
        .map(|v| {
            let minutes = (v / 60_000.0).round() as u64;
            (v, format!("{:02}:{:02}", minutes / 60, minutes % 60))
        })
        .collect()
}

/// One line of a chart, with an optional band (low, high) around it.
pub struct Series {
    pub name: String,
    pub points: Vec<(f64, f64)>,
    pub band: Option<Vec<(f64, f64, f64)>>,
}

impl Series {
    pub fn line(name: impl Into<String>, points: Vec<(f64, f64)>) -> Series {
        Series {
            name: name.into(),
            points,
            band: None,
        }
    }
}

/// A line chart.
pub struct Lines {
    pub title: String,
    pub x: Axis,
    pub x_label: String,
    pub y: Axis,
    pub y_label: String,
    pub series: Vec<Series>,
}

const WIDTH: f64 = 1000.0;
const HEIGHT: f64 = 420.0;
const LEFT: f64 = 90.0;
const RIGHT: f64 = 40.0;
const TOP: f64 = 16.0;
const BOTTOM: f64 = 52.0;

fn range(values: impl Iterator<Item = f64>) -> Option<(f64, f64)> {
    let (mut low, mut high) = (f64::INFINITY, f64::NEG_INFINITY);
    for v in values.filter(|v| v.is_finite()) {
        low = low.min(v);
        high = high.max(v);
    }
    low.is_finite().then_some((low, high))
}

/// A log axis's range: whole decades around `[low, high]` (fen, at least
/// 1 fen).
fn decades(low: f64, high: f64) -> (f64, f64) {
    let low = 10f64.powf(low.max(1.0).log10().floor());
    let high = 10f64.powf(high.max(1.0).log10().ceil());
    (low, if high > low { high } else { low * 10.0 })
}

/// Where a line chart's values fall: the axes' ranges (values, not
/// mapped) and the scales from values to pixels.
struct Plot {
    x: Axis,
    y: Axis,
    x_range: (f64, f64),
    y_range: (f64, f64),
}

const PLOT_W: f64 = WIDTH - LEFT - RIGHT;
const PLOT_H: f64 = HEIGHT - TOP - BOTTOM;

impl Plot {
    /// The ranges that show every point and band of `chart`, widened to
    /// each axis's rule (log axes by decades, shares within 0–100 %).
    fn of(chart: &Lines) -> Plot {
        let xs = chart
            .series
            .iter()
            .flat_map(|s| s.points.iter().map(|p| p.0));
        let ys = chart.series.iter().flat_map(|s| {
            s.points.iter().map(|p| p.1).chain(
                s.band
                    .iter()
                    .flat_map(|b| b.iter().flat_map(|p| [p.1, p.2])),
            )
        });
        let (x_low, x_high) = range(xs).unwrap_or((0.0, 1.0));
        let (y_low, y_high) = range(ys).unwrap_or((0.0, 1.0));
        let x_range = match chart.x {
            Axis::Percentile => (0.0, 0.9999),
            Axis::LogDuration => (x_low.max(1.0), x_high.max(x_low.max(1.0) * 10.0)),
            Axis::LogMoney => decades(x_low, x_high),
            _ if x_high <= x_low => (x_low, x_low + 1.0),
            _ => (x_low, x_high),
        };
        let y_range = match chart.y {
            Axis::LogMoney => decades(y_low, y_high),
            Axis::LogDuration => {
                if y_low < 1.0 {
                    (0.0, y_high.max(10.0))
                } else {
                    let low = 10f64.powf(y_low.log10().floor());
                    (low, y_high.max(low * 10.0))
                }
            }
            Axis::Share => {
                // At least 5 points of span: a 0.02-point dip must not
                // fill the chart and read as a crash.
                let pad = ((y_high - y_low) * 0.08).max(0.0005);
                let high = (y_high + pad).min(1.0);
                let low = (y_low - pad).max(0.0).min((high - MIN_SHARE_SPAN).max(0.0));
                (low, high)
            }
            _ => {
                let low = y_low.min(0.0);
                let high = if y_high <= low { low + 1.0 } else { y_high };
                (low, high + (high - low) * 0.04)
            }
        };
        Plot {
            x: chart.x,
            y: chart.y,
            x_range,
            y_range,
        }
    }

    fn sx(&self, x: f64) -> f64 {
        let (low, high) = (self.x.map(self.x_range.0), self.x.map(self.x_range.1));
        LEFT + (self.x.map(x) - low) / (high - low).max(1e-12) * PLOT_W
    }

    fn sy(&self, y: f64) -> f64 {
        let (low, high) = (self.y.map(self.y_range.0), self.y.map(self.y_range.1));
        TOP + PLOT_H - (self.y.map(y) - low) / (high - low).max(1e-12) * PLOT_H
    }

    /// A point in pixels, kept inside the plot area.
    fn point(&self, x: f64, y: f64) -> String {
        format!(
            "{:.1},{:.1}",
            self.sx(x).clamp(LEFT, LEFT + PLOT_W),
            self.sy(y).clamp(TOP, TOP + PLOT_H)
        )
    }

    /// The frame, the grid with its tick labels, and the axis labels.
    fn axes(&self, chart: &Lines) -> String {
        let mut svg = format!(
            "<rect x=\"{LEFT}\" y=\"{TOP}\" width=\"{PLOT_W}\" height=\"{PLOT_H}\" fill=\"none\" stroke=\"#888\"/>"
        );
        for (x, label) in self.x.ticks(self.x_range.0, self.x_range.1) {
            let px = self.sx(x);
            svg += &format!(
                "<line x1=\"{px:.1}\" y1=\"{TOP}\" x2=\"{px:.1}\" y2=\"{:.1}\" stroke=\"#e4e4e4\"/><text x=\"{px:.1}\" y=\"{:.1}\" font-size=\"13\" text-anchor=\"middle\">{}</text>",
                TOP + PLOT_H,
                TOP + PLOT_H + 18.0,
                escape(&label)
            );
        }
        for (y, label) in self.y.ticks(self.y_range.0, self.y_range.1) {
            let py = self.sy(y);
            svg += &format!(
                "<line x1=\"{LEFT}\" y1=\"{py:.1}\" x2=\"{:.1}\" y2=\"{py:.1}\" stroke=\"#e4e4e4\"/><text x=\"{:.1}\" y=\"{:.1}\" font-size=\"13\" text-anchor=\"end\">{}</text>",
                LEFT + PLOT_W,
                LEFT - 6.0,
                py + 4.0,
                escape(&label)
            );
        }
        svg += &format!(
            "<text x=\"{:.1}\" y=\"{:.1}\" font-size=\"14\" text-anchor=\"middle\">{}</text>",
            LEFT + PLOT_W / 2.0,
            HEIGHT - 10.0,
            escape(&chart.x_label)
        );
        svg += &format!(
            "<text transform=\"translate(18 {:.1}) rotate(-90)\" font-size=\"14\" text-anchor=\"middle\">{}</text>",
            TOP + PLOT_H / 2.0,
            escape(&chart.y_label)
        );
        svg
    }

    /// One series: its band (if any) under its line.
    fn series(&self, index: usize, series: &Series) -> String {
        let (colour, dash) = style(index);
        let mut svg = String::new();
        if let Some(band) = &series.band {
            let upper = band.iter().map(|&(x, _, hi)| self.point(x, hi));
            let lower = band.iter().rev().map(|&(x, lo, _)| self.point(x, lo));
            svg += &format!(
                "<polygon class=\"band\" fill=\"{colour}\" fill-opacity=\"0.18\" stroke=\"none\" points=\"{}\"/>",
                upper.chain(lower).collect::<Vec<_>>().join(" ")
            );
        }
        let points: Vec<String> = series
            .points
            .iter()
            .map(|&(x, y)| self.point(x, y))
            .collect();
        svg += &format!(
            "<polyline class=\"series\" fill=\"none\" stroke=\"{colour}\" stroke-width=\"2.2\" stroke-dasharray=\"{dash}\" points=\"{}\"/>",
            points.join(" ")
        );
        svg
    }
}

impl Lines {
    fn svg(&self) -> String {
        let plot = Plot::of(self);
        let mut svg = format!(
            "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {WIDTH} {HEIGHT}\" role=\"img\" aria-label=\"{}\">",
            escape(&self.title)
        );
        svg += &plot.axes(self);
        for (index, series) in self.series.iter().enumerate() {
            svg += &plot.series(index, series);
        }
        svg + "</svg>"
    }
}

fn figure(title: &str, svg: &str, legend: &str) -> String {
    format!(
        "<figure class=\"chart\"><figcaption>{}</figcaption>{svg}{legend}</figure>",
        escape(title)
    )
}

/// The legend: one swatch (colour and dash) per series name.
fn legend<'a>(names: impl Iterator<Item = &'a str>) -> String {
    let mut out = String::from("<div class=\"legend\">");
    for (index, name) in names.enumerate() {
        let (colour, dash) = style(index);
        out += &format!(
            "<span><svg width=\"34\" height=\"10\" style=\"display:inline;width:34px\"><line x1=\"0\" y1=\"5\" x2=\"34\" y2=\"5\" stroke=\"{colour}\" stroke-width=\"3\" stroke-dasharray=\"{dash}\"/></svg> {}</span>",
            escape(name)
        );
    }
    out + "</div>"
}

/// The frame of a chart with one row per label and money along x: the SVG
/// opened with its grid and tick labels, the x scale, the closing label.
struct MoneyRows {
    left: f64,
    plot_w: f64,
    low_tick: f64,
    top_tick: f64,
    height: f64,
}

impl MoneyRows {
    /// Opens the SVG for `rows` rows of `row_h` px, labels in the `left`
    /// px margin, values up to `high` fen.
    fn open(title: &str, left: f64, row_h: f64, rows: usize, high: f64) -> (MoneyRows, String) {
        Self::spanning(title, (left, row_h, rows), (0.0, high), money_short)
    }

    /// The same for values from `low` to `high`, ticks labelled by `label`.
    fn spanning(
        title: &str,
        (left, row_h, rows): (f64, f64, usize),
        (low, high): (f64, f64),
        label: fn(f64) -> String,
    ) -> (MoneyRows, String) {
        let bottom = TOP + row_h * rows as f64;
        let pad = (high - low).abs() * 0.04;
        let low = if low < 0.0 { low - pad } else { low };
        let ticks = nice_ticks(low, high + pad);
        let frame = MoneyRows {
            left,
            plot_w: WIDTH - left - RIGHT,
            low_tick: ticks.first().copied().unwrap_or(low).min(low),
            top_tick: ticks.last().copied().unwrap_or(high).max(high),
            height: bottom + BOTTOM,
        };
        let mut svg = format!(
            "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {WIDTH} {}\" role=\"img\" aria-label=\"{}\">",
            frame.height,
            escape(title)
        );
        for v in &ticks {
            let px = frame.x(*v);
            svg += &format!(
                "<line x1=\"{px:.1}\" y1=\"{TOP}\" x2=\"{px:.1}\" y2=\"{bottom:.1}\" stroke=\"#e4e4e4\"/><text x=\"{px:.1}\" y=\"{:.1}\" font-size=\"13\" text-anchor=\"middle\">{}</text>",
                bottom + 18.0,
                escape(&label(*v))
            );
        }
        (frame, svg)
    }

    /// Pixels of `value` along x.
    fn x(&self, value: f64) -> f64 {
        let span = (self.top_tick - self.low_tick).max(f64::MIN_POSITIVE);
        self.left + (value - self.low_tick) / span * self.plot_w
    }

    /// The axis label, and the SVG closed.
    fn close(&self, svg: &mut String, x_label: &str) {
        *svg += &format!(
            "<text x=\"{:.1}\" y=\"{:.1}\" font-size=\"14\" text-anchor=\"middle\">{}</text></svg>",
            self.left + self.plot_w / 2.0,
            self.height - 10.0,
            escape(x_label)
        );
    }
}

/// A dot plot with named rows: one row per label (a bank), one marker per
/// series (a design), x in money. Rows keep the order given.
pub struct Dots {
    pub title: String,
    pub x_label: String,
    pub labels: Vec<String>,
    pub series: Vec<(String, Vec<i64>)>,
}

impl Dots {
    fn svg(&self) -> String {
        let row_h = 22.0;
        let high = self
            .series
            .iter()
            .flat_map(|(_, v)| v.iter().copied())
            .max()
            .unwrap_or(1)
            .max(1) as f64;
        let (frame, mut svg) = MoneyRows::open(&self.title, 230.0, row_h, self.labels.len(), high);
        for (row, label) in self.labels.iter().enumerate() {
            let y = TOP + row_h * (row as f64 + 0.5);
            svg += &format!(
                "<text x=\"{:.1}\" y=\"{:.1}\" font-size=\"13\" text-anchor=\"end\">{}</text><line x1=\"{}\" y1=\"{y:.1}\" x2=\"{:.1}\" y2=\"{y:.1}\" stroke=\"#f0f0f0\"/>",
                frame.left - 8.0,
                y + 4.0,
                escape(label),
                frame.left,
                frame.left + frame.plot_w
            );
            for (index, (_, values)) in self.series.iter().enumerate() {
                let (colour, _) = style(index);
                if let Some(&v) = values.get(row) {
                    svg += &format!(
                        "<circle class=\"series\" cx=\"{:.1}\" cy=\"{y:.1}\" r=\"5\" fill=\"{colour}\" fill-opacity=\"0.85\"/>",
                        frame.x(v as f64)
                    );
                }
            }
        }
        frame.close(&mut svg, &self.x_label);
        svg
    }
}

/// Horizontal stacked bars: one bar per label, one segment per component
/// (the same components, in the same order, on every bar), x in money.
pub struct Bars {
    pub title: String,
    pub x_label: String,
    pub bars: Vec<(String, Vec<(String, f64)>)>,
}

impl Bars {
    fn svg(&self) -> String {
        let row_h = 30.0;
        let high = self
            .bars
            .iter()
            .map(|(_, parts)| parts.iter().map(|p| p.1.max(0.0)).sum::<f64>())
            .fold(0.0, f64::max)
            .max(1.0);
        let (frame, mut svg) = MoneyRows::open(&self.title, 300.0, row_h, self.bars.len(), high);
        for (row, (label, parts)) in self.bars.iter().enumerate() {
            let y = TOP + row_h * row as f64 + 5.0;
            svg += &format!(
                "<text x=\"{:.1}\" y=\"{:.1}\" font-size=\"13\" text-anchor=\"end\">{}</text>",
                frame.left - 8.0,
                y + 15.0,
                escape(label)
            );
            let mut x = frame.left;
            for (index, (_, value)) in parts.iter().enumerate() {
                let w = frame.x(value.max(0.0)) - frame.left;
                let (colour, _) = style(index);
                svg += &format!(
                    "<rect class=\"series\" x=\"{x:.1}\" y=\"{y:.1}\" width=\"{w:.1}\" height=\"{:.1}\" fill=\"{colour}\"/>",
                    row_h - 10.0
                );
                x += w;
            }
        }
        frame.close(&mut svg, &self.x_label);
        svg
    }
}

/// Estimates by row: one row per label, one marker per series at its mean
/// with a whisker over its 95 % interval (none for one replication), a
/// signed duration in hours along x, zero marked.
pub struct Intervals {
    pub title: String,
    pub x_label: String,
    pub labels: Vec<String>,
    /// Per series, per label: its estimate, or none.
    pub series: Vec<(String, Vec<Option<Interval>>)>,
}

/// A mean and its 95 % interval (none for one replication), in hours.
pub type Interval = (f64, Option<[f64; 2]>);

impl Intervals {
    fn svg(&self) -> String {
        let row_h = 14.0 + 12.0 * self.series.len() as f64;
        let values = self.series.iter().flat_map(|(_, v)| v.iter().flatten());
        let ends =
            values.flat_map(|(m, ci)| [*m, ci.map_or(*m, |c| c[0]), ci.map_or(*m, |c| c[1])]);
        let (low, high) = range(ends).unwrap_or((0.0, 1.0));
        let (low, high) = (low.min(0.0), high.max(0.0));
        let high = if high - low <= 0.0 { low + 1.0 } else { high };
        let rows = (230.0, row_h, self.labels.len());
        let (frame, mut svg) = MoneyRows::spanning(&self.title, rows, (low, high), hours_tick);
        let zero = frame.x(0.0);
        svg += &format!(
            "<line x1=\"{zero:.1}\" y1=\"{TOP}\" x2=\"{zero:.1}\" y2=\"{:.1}\" stroke=\"#888\"/>",
            frame.height - BOTTOM
        );
        for (row, label) in self.labels.iter().enumerate() {
            let top = TOP + row_h * row as f64;
            svg += &format!(
                "<text x=\"{:.1}\" y=\"{:.1}\" font-size=\"13\" text-anchor=\"end\">{}</text>",
                frame.left - 8.0,
                top + row_h / 2.0 + 4.0,
                escape(label)
            );
            for (index, (_, values)) in self.series.iter().enumerate() {
                let Some(Some((mean, ci))) = values.get(row) else {
                    continue;
                };
                let (colour, _) = style(index);
                let y = top + 13.0 + 12.0 * index as f64;
                if let Some([lo, hi]) = ci {
                    svg += &format!(
                        "<line x1=\"{:.1}\" y1=\"{y:.1}\" x2=\"{:.1}\" y2=\"{y:.1}\" stroke=\"{colour}\" stroke-width=\"2\"/>",
                        frame.x(*lo),
                        frame.x(*hi)
                    );
                }
                svg += &format!(
                    "<circle class=\"series\" cx=\"{:.1}\" cy=\"{y:.1}\" r=\"5\" fill=\"{colour}\"/>",
                    frame.x(*mean)
                );
            }
        }
        frame.close(&mut svg, &self.x_label);
        svg
    }
}

/// A tick of hours in the unit that fits it (36 s, 12 min, 1.5 h).
fn hours_tick(hours: f64) -> String {
    if hours.abs() >= 1.0 && hours.fract() == 0.0 {
        let sign = if hours < 0.0 { "−" } else { "" };
        return format!("{sign}{} h", hours.abs());
    }
    clearsim_core::format::duration_h(hours)
}

/// A square matrix of money, rows paying columns: the bilateral flows
/// among named banks. A cell's shade grows with the square root of its
/// value (so that small flows still show beside the largest); an empty
/// cell is white.
pub struct Heatmap {
    pub title: String,
    /// What a row and a column are, e.g. "payer (row) → payee (column)".
    pub axes: String,
    pub labels: Vec<String>,
    /// `cells_fen[row][column]`, ≥ 0.
    pub cells_fen: Vec<Vec<i64>>,
}

impl Heatmap {
    const CELL: f64 = 22.0;
    const MARGIN: f64 = 150.0;

    fn largest_fen(&self) -> i64 {
        self.cells_fen.iter().flatten().copied().max().unwrap_or(0)
    }

    fn shade(&self, value_fen: i64) -> String {
        let top = self.largest_fen().max(1) as f64;
        let depth = (value_fen.max(0) as f64 / top).sqrt();
        // White to Tableau's blue (#4e79a7).
        let mix = |full: f64| (255.0 - (255.0 - full) * depth).round() as u8;
        format!("#{:02x}{:02x}{:02x}", mix(78.0), mix(121.0), mix(167.0))
    }

    fn svg(&self) -> String {
        let n = self.labels.len() as f64;
        // Room on the right for the last column's slanted label.
        let width = Self::MARGIN + Self::CELL * n + 90.0;
        let height = Self::MARGIN + Self::CELL * n + 10.0;
        let mut svg = format!(
            "<svg viewBox=\"0 0 {width:.0} {height:.0}\" style=\"max-width:{width:.0}px\" role=\"img\" aria-label=\"{}\">",
            escape(&self.title)
        );
        for (i, label) in self.labels.iter().enumerate() {
            let at = Self::MARGIN + Self::CELL * i as f64 + Self::CELL * 0.7;
            svg += &format!(
                "<text x=\"{:.1}\" y=\"{at:.1}\" font-size=\"11\" text-anchor=\"end\">{}</text>",
                Self::MARGIN - 6.0,
                escape(label)
            );
            svg += &format!(
                "<text transform=\"translate({at:.1},{:.1}) rotate(-60)\" font-size=\"11\">{}</text>",
                Self::MARGIN - 6.0,
                escape(label)
            );
        }
        for (r, row) in self.cells_fen.iter().enumerate() {
            for (c, &value) in row.iter().enumerate() {
                let (x, y) = (
                    Self::MARGIN + Self::CELL * c as f64,
                    Self::MARGIN + Self::CELL * r as f64,
                );
                svg += &format!(
                    "<rect x=\"{x:.1}\" y=\"{y:.1}\" width=\"{w:.1}\" height=\"{w:.1}\" fill=\"{}\" stroke=\"#e0e0e0\" stroke-width=\"0.5\"><title>{} → {}: {} yuan</title></rect>",
                    self.shade(value),
                    escape(&self.labels[r]),
                    escape(&self.labels[c]),
                    clearsim_core::format::yuan(value),
                    w = Self::CELL
                );
            }
        }
        svg + "</svg>"
    }

    /// The legend: what rows and columns are, and the shade's scale.
    fn scale(&self) -> String {
        let top = self.largest_fen();
        let swatches: String = [0.0, 0.01, 0.1, 0.5, 1.0]
            .iter()
            .map(|&share| {
                let value = (top as f64 * share).round() as i64;
                format!(
                    "<span><svg width=\"14\" height=\"14\" style=\"display:inline;width:14px\"><rect width=\"14\" height=\"14\" fill=\"{}\" stroke=\"#bbb\"/></svg> {}</span>",
                    self.shade(value),
                    escape(&money_short(value as f64))
                )
            })
            .collect();
        format!(
            "<div class=\"legend\"><span>{}; shade by value (yuan, square-root scale):</span>{swatches}</div>",
            escape(&self.axes)
        )
    }
}

/// Text for HTML (pages and SVG alike).
pub fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

impl Lines {
    /// Each series' name for the legend; a series drawn exactly over an
    /// earlier one says so ("cross-city-in (same as cross-city-out)"),
    /// since only the last drawn shows.
    fn legend_names(&self) -> Vec<String> {
        self.series
            .iter()
            .enumerate()
            .map(|(i, s)| {
                match self.series[..i]
                    .iter()
                    .find(|earlier| earlier.points == s.points)
                {
                    Some(earlier) => format!("{} (same as {})", s.name, earlier.name),
                    None => s.name.clone(),
                }
            })
            .collect()
    }
}
