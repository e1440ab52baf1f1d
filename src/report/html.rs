//! A self-contained HTML page with inline SVG charts: no script, no
//! network, no CDN. Labelled axes with units.

use super::study::Table;

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

pub fn page(title: &str, sections: &[String]) -> String {
    let mut out = String::from("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">");
    out += &format!("<title>{}</title>", escape(title));
    out += "<style>body{font-family:system-ui,sans-serif;margin:2em;color:#222}table{border-collapse:collapse;margin:1em 0}\
td,th{border:1px solid #ccc;padding:4px 8px;text-align:right}td:first-child,th:first-child{text-align:left}\
th{background:#f3f3f3}svg{display:block;margin:1.5em 0;background:#fff}</style></head><body>";
    out += &format!("<h1>{}</h1>", escape(title));
    for section in sections {
        out += section;
    }
    out += "</body></html>\n";
    out
}

pub fn table(table: &Table) -> String {
    let mut out = String::from("<table><thead><tr>");
    for h in &table.header {
        out += &format!("<th>{}</th>", escape(h));
    }
    out += "</tr></thead><tbody>";
    for row in &table.rows {
        out += "<tr>";
        for cell in row {
            out += &format!("<td>{}</td>", escape(cell));
        }
        out += "</tr>";
    }
    out += "</tbody></table>";
    out
}

const COLOURS: [&str; 8] = [
    "#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf",
];
const WIDTH: f64 = 760.0;
const HEIGHT: f64 = 380.0;
const LEFT: f64 = 80.0;
const RIGHT: f64 = 180.0;
const TOP: f64 = 40.0;
const BOTTOM: f64 = 60.0;

/// A line chart; `log_x` puts x on a log10 scale (x must be > 0).
pub fn line_chart(
    title: &str,
    x_label: &str,
    y_label: &str,
    series: &[(String, Vec<(f64, f64)>)],
    log_x: bool,
) -> String {
    let tx = |x: f64| if log_x { x.max(1e-12).log10() } else { x };
    let points: Vec<(f64, f64)> = series
        .iter()
        .flat_map(|(_, p)| p.iter().map(|&(x, y)| (tx(x), y)))
        .collect();
    let (x_min, x_max) = bounds(points.iter().map(|p| p.0));
    let (_, y_max) = bounds(points.iter().map(|p| p.1));
    let y_max = if y_max <= 0.0 { 1.0 } else { y_max * 1.05 };
    let ticks: Vec<(f64, String)> = (0..=4)
        .map(|i| {
            let x = x_min + (x_max - x_min) * f64::from(i) / 4.0;
            (
                x,
                if log_x {
                    format!("{:.3}", 10f64.powf(x))
                } else {
                    format!("{x:.2}")
                },
            )
        })
        .collect();
    chart(
        title,
        x_label,
        y_label,
        series,
        &|x, _| tx(x),
        (x_min, x_max),
        y_max,
        &ticks,
    )
}

/// Liquidity used per participant, largest first (one curve per series):
/// x = participant rank, y = million yuan.
pub fn liquidity_chart(series: &[(String, Vec<i64>)]) -> String {
    let curves: Vec<(String, Vec<(f64, f64)>)> = series
        .iter()
        .map(|(name, used)| {
            let mut sorted = used.clone();
            sorted.sort_unstable_by(|a, b| b.cmp(a));
            (
                name.clone(),
                sorted
                    .iter()
                    .enumerate()
                    .map(|(rank, &fen)| ((rank + 1) as f64, fen as f64 / 1e8))
                    .collect(),
            )
        })
        .collect();
    line_chart(
        "Liquidity used per participant, largest first",
        "participant rank",
        "liquidity used (million yuan)",
        &curves,
        false,
    )
}

/// Value settled (cumulative) and peak value queued through the day, one
/// curve per flow; x = hour of the day, y = million yuan.
pub fn timeline_charts(series: &[(String, &crate::run::Timeline)]) -> String {
    let last = series
        .iter()
        .flat_map(|(_, t)| {
            let settled = t.settled_value.iter().rposition(|&v| v != 0);
            let queued = t.peak_queued_value.iter().rposition(|&v| v != 0);
            settled.max(queued)
        })
        .max()
        .map_or(0, |b| b + 1);
    let hour = |t: &crate::run::Timeline, bucket: usize| {
        (bucket as f64 + 1.0) * f64::from(t.bucket_ms) / 3_600_000.0
    };
    let settled: Vec<(String, Vec<(f64, f64)>)> = series
        .iter()
        .map(|(name, t)| {
            let mut total = 0i64;
            let points = (0..last)
                .map(|b| {
                    total = total.saturating_add(t.settled_value[b]);
                    (hour(t, b), total as f64 / 1e8)
                })
                .collect();
            (name.clone(), points)
        })
        .collect();
    let queued: Vec<(String, Vec<(f64, f64)>)> = series
        .iter()
        .map(|(name, t)| {
            (
                name.clone(),
                (0..last)
                    .map(|b| (hour(t, b), t.peak_queued_value[b] as f64 / 1e8))
                    .collect(),
            )
        })
        .collect();
    line_chart(
        "Value settled through the day",
        "hour of the day",
        "settled so far (million yuan)",
        &settled,
        false,
    ) + &line_chart(
        "Value queued or pending through the day",
        "hour of the day",
        "peak in 15 minutes (million yuan)",
        &queued,
        false,
    )
}

/// In-transit time by percentile, HDR style: x = 1/(1−q) on a log scale.
pub fn percentile_chart(title: &str, series: &[(String, Vec<(f64, f64)>)]) -> String {
    let tx = |q: f64| (1.0 / (1.0 - q.min(0.99999))).log10();
    let (_, y_max) = bounds(series.iter().flat_map(|(_, p)| p.iter().map(|p| p.1)));
    let y_max = if y_max <= 0.0 { 1.0 } else { y_max * 1.05 };
    let ticks: Vec<(f64, String)> = [
        (0.0, "0%"),
        (0.9, "90%"),
        (0.99, "99%"),
        (0.999, "99.9%"),
        (0.9999, "99.99%"),
    ]
    .iter()
    .map(|&(q, label)| (tx(q), label.to_string()))
    .collect();
    chart(
        title,
        "percentile",
        "in-transit time (minutes)",
        series,
        &|q, _| tx(q),
        (0.0, tx(0.9999)),
        y_max,
        &ticks,
    )
}

fn bounds(values: impl Iterator<Item = f64>) -> (f64, f64) {
    let (mut low, mut high) = (f64::INFINITY, f64::NEG_INFINITY);
    for v in values.filter(|v| v.is_finite()) {
        low = low.min(v);
        high = high.max(v);
    }
    if !low.is_finite() {
        (0.0, 1.0)
    } else if high <= low {
        (low, low + 1.0)
    } else {
        (low, high)
    }
}

#[allow(clippy::too_many_arguments)]
fn chart(
    title: &str,
    x_label: &str,
    y_label: &str,
    series: &[(String, Vec<(f64, f64)>)],
    map_x: &dyn Fn(f64, f64) -> f64,
    (x_min, x_max): (f64, f64),
    y_max: f64,
    x_ticks: &[(f64, String)],
) -> String {
    let plot_w = WIDTH - LEFT - RIGHT;
    let plot_h = HEIGHT - TOP - BOTTOM;
    let sx = |x: f64| LEFT + (x - x_min) / (x_max - x_min) * plot_w;
    let sy = |y: f64| TOP + plot_h - y / y_max * plot_h;
    let mut out = format!(
        "<svg class=\"chart\" xmlns=\"http://www.w3.org/2000/svg\" width=\"{WIDTH}\" height=\"{HEIGHT}\" viewBox=\"0 0 {WIDTH} {HEIGHT}\" role=\"img\" aria-label=\"{}\">",
        escape(title)
    );
    out += &format!(
        "<text x=\"{}\" y=\"22\" font-size=\"16\" font-weight=\"bold\">{}</text>",
        LEFT,
        escape(title)
    );
    out += &format!(
        "<rect x=\"{LEFT}\" y=\"{TOP}\" width=\"{plot_w}\" height=\"{plot_h}\" fill=\"none\" stroke=\"#888\"/>"
    );
    for (x, label) in x_ticks {
        let px = sx(*x);
        out += &format!(
            "<line x1=\"{px:.1}\" y1=\"{TOP}\" x2=\"{px:.1}\" y2=\"{:.1}\" stroke=\"#eee\"/>",
            TOP + plot_h
        );
        out += &format!(
            "<text x=\"{px:.1}\" y=\"{:.1}\" font-size=\"11\" text-anchor=\"middle\">{}</text>",
            TOP + plot_h + 16.0,
            escape(label)
        );
    }
    for i in 0..=4 {
        let y = y_max * f64::from(i) / 4.0;
        let py = sy(y);
        out += &format!(
            "<line x1=\"{LEFT}\" y1=\"{py:.1}\" x2=\"{:.1}\" y2=\"{py:.1}\" stroke=\"#eee\"/>",
            LEFT + plot_w
        );
        out += &format!(
            "<text x=\"{:.1}\" y=\"{:.1}\" font-size=\"11\" text-anchor=\"end\">{}</text>",
            LEFT - 6.0,
            py + 4.0,
            format_tick(y)
        );
    }
    out += &format!(
        "<text x=\"{:.1}\" y=\"{:.1}\" font-size=\"12\" text-anchor=\"middle\">{}</text>",
        LEFT + plot_w / 2.0,
        HEIGHT - 14.0,
        escape(x_label)
    );
    out += &format!(
        "<text transform=\"translate(18 {:.1}) rotate(-90)\" font-size=\"12\" text-anchor=\"middle\">{}</text>",
        TOP + plot_h / 2.0,
        escape(y_label)
    );
    for (index, (name, points)) in series.iter().enumerate() {
        let colour = COLOURS[index % COLOURS.len()];
        let path: Vec<String> = points
            .iter()
            .map(|&(x, y)| {
                format!(
                    "{:.1},{:.1}",
                    sx(map_x(x, y)).clamp(LEFT, LEFT + plot_w),
                    sy(y).clamp(TOP, TOP + plot_h)
                )
            })
            .collect();
        out += &format!(
            "<polyline class=\"series\" fill=\"none\" stroke=\"{colour}\" stroke-width=\"2\" points=\"{}\"/>",
            path.join(" ")
        );
        let ly = TOP + 14.0 + 18.0 * index as f64;
        out += &format!(
            "<line x1=\"{:.1}\" y1=\"{ly:.1}\" x2=\"{:.1}\" y2=\"{ly:.1}\" stroke=\"{colour}\" stroke-width=\"3\"/><text x=\"{:.1}\" y=\"{:.1}\" font-size=\"12\">{}</text>",
            LEFT + plot_w + 12.0,
            LEFT + plot_w + 32.0,
            LEFT + plot_w + 38.0,
            ly + 4.0,
            escape(name)
        );
    }
    out += "</svg>";
    out
}

fn format_tick(value: f64) -> String {
    if value == 0.0 {
        "0".into()
    } else if value.abs() >= 100.0 {
        format!("{value:.0}")
    } else if value.abs() >= 1.0 {
        format!("{value:.1}")
    } else {
        format!("{value:.3}")
    }
}
