//! The payment network of a replayed day (`replay --network`): per bank
//! figures (network.csv), the bilateral flows (flows.csv), and a document
//! (network.md, network.html) with the network's figures, the most
//! central banks and the flow matrix as a heatmap.

use clearsim_core::format::yuan;
use clearsim_model::csvout::CsvOut;
use clearsim_model::metrics::network::Network;

use crate::ReportFiles;
use crate::chart::{Chart, Heatmap};
use crate::document::Document;
use crate::table::Table;

/// Banks in the heatmap at most: the most active by value paid and
/// received (a wider matrix cannot be read at 1,280 px).
pub const HEATMAP_BANKS: usize = 30;

/// The banks of the network, named.
pub struct Banks<'a> {
    pub ids: &'a [String],
    pub names: &'a [String],
    /// Business days the flows span: 1 (a day), or a dated file's days.
    pub days: usize,
}

impl Banks<'_> {
    /// "the day", or "the N business days".
    fn period(&self) -> String {
        match self.days {
            1 => "the day".into(),
            n => format!("the {n} business days"),
        }
    }

    /// "the day's", or "the N business days'".
    fn period_of(&self) -> String {
        match self.days {
            1 => "the day's".into(),
            n => format!("the {n} business days'"),
        }
    }
}

/// network.csv, flows.csv, network.md and network.html; `what` says
/// whose flows they are (the version and definitions line follows it).
pub fn network_files(banks: &Banks<'_>, network: &Network, what: String) -> ReportFiles {
    let context = vec![
        what,
        format!(
            "clearsim {}. Definitions: docs/semantics.md#network-figures.",
            env!("CARGO_PKG_VERSION")
        ),
    ];
    let doc = document(banks, network, context);
    vec![
        ("network.csv", network_csv(banks, network)),
        ("flows.csv", flows_csv(banks, network)),
    ]
    .into_iter()
    .chain(doc.files_as("network.md", "network.html"))
    .collect()
}

fn network_csv(banks: &Banks<'_>, network: &Network) -> Vec<u8> {
    let mut out = CsvOut::new(Vec::new());
    let mut write = || -> std::io::Result<()> {
        out.row([
            "id",
            "name",
            "out_degree",
            "in_degree",
            "out_strength_fen",
            "in_strength_fen",
            "eigenvector_centrality",
            "core_number",
            "core",
        ])?;
        for (i, id) in banks.ids.iter().enumerate() {
            out.text(id)?;
            out.text(&banks.names[i])?;
            out.int(network.out_degree[i])?;
            out.int(network.in_degree[i])?;
            out.int(network.out_strength_fen[i])?;
            out.int(network.in_strength_fen[i])?;
            match &network.eigenvector {
                Some(vector) => out.text(vector[i].to_string())?,
                None => out.empty()?,
            }
            out.int(network.core_number[i])?;
            out.text(if network.core[i] { "core" } else { "periphery" })?;
            out.end()?;
        }
        Ok(())
    };
    // Writing to a vector cannot fail.
    let _ = write();
    out.into_bytes()
}

fn flows_csv(banks: &Banks<'_>, network: &Network) -> Vec<u8> {
    let mut out = CsvOut::new(Vec::new());
    let mut write = || -> std::io::Result<()> {
        out.row(["sender", "receiver", "payments", "value_fen"])?;
        for &((s, r), (count, value)) in &network.flows {
            out.text(&banks.ids[s as usize])?;
            out.text(&banks.ids[r as usize])?;
            out.int(count)?;
            out.int(value)?;
            out.end()?;
        }
        Ok(())
    };
    // Writing to a vector cannot fail.
    let _ = write();
    out.into_bytes()
}

fn document(banks: &Banks<'_>, network: &Network, context: Vec<String>) -> Document {
    let mut doc = Document::new(
        format!("clearsim: the payment network of {}", banks.period()),
        context,
    );
    let n = network.active;
    let links = network.flows.len();
    let density = if n > 1 {
        links as f64 / (n * (n - 1)) as f64
    } else {
        0.0
    };
    let core = network.core.iter().filter(|&&c| c).count();
    let period = format!("figure ({})", banks.period());
    let mut figures = Table::new(&[period.as_str(), "value"]);
    for (figure, value) in [
        ("banks that paid or were paid", n.to_string()),
        ("links (ordered pairs with a payment)", links.to_string()),
        (
            "density (links ÷ possible links among those banks)",
            format!("{density:.3}"),
        ),
        (
            "reciprocity (links whose reverse is a link)",
            format!("{:.3}", network.reciprocity),
        ),
        (
            "clustering (mean local coefficient, undirected)",
            format!("{:.3}", network.clustering),
        ),
        (
            "core (banks in the highest k-core)",
            format!(
                "{core} (k = {})",
                network.core_number.iter().max().copied().unwrap_or(0)
            ),
        ),
    ] {
        figures.rows.push(vec![figure.to_string(), value]);
    }
    doc.table(figures);
    doc.heading("The most central banks");
    doc.note(format!(
        "Eigenvector centrality of the value-weighted flows, 1 for the most central: a bank is central when central banks pay it. Strengths are {} values paid and received.",
        banks.period_of()
    ));
    doc.table(central_table(banks, network));
    doc.chart(heatmap(banks, network));
    doc
}

fn central_table(banks: &Banks<'_>, network: &Network) -> Table {
    let mut order: Vec<usize> = (0..banks.ids.len()).collect();
    let score = |i: usize| network.eigenvector.as_ref().map_or(0.0, |v| v[i]);
    order.sort_by(|&a, &b| score(b).total_cmp(&score(a)).then(a.cmp(&b)));
    let mut table = Table::new(&[
        "bank",
        "name",
        "centrality",
        "pays (yuan)",
        "is paid (yuan)",
        "pays / is paid by (banks)",
        "k-core",
    ]);
    for &i in order.iter().take(10) {
        table.rows.push(vec![
            banks.ids[i].clone(),
            shortened(&banks.names[i]),
            network
                .eigenvector
                .as_ref()
                .map_or("—".into(), |v| format!("{:.3}", v[i])),
            yuan(network.out_strength_fen[i]),
            yuan(network.in_strength_fen[i]),
            format!("{} / {}", network.out_degree[i], network.in_degree[i]),
            network.core_number[i].to_string(),
        ]);
    }
    table
}

/// A name cut to 40 characters, so that the table fits the page.
fn shortened(name: &str) -> String {
    if name.chars().count() <= 40 {
        return name.to_string();
    }
    name.chars().take(39).collect::<String>() + "…"
}

fn heatmap(banks: &Banks<'_>, network: &Network) -> Chart {
    let mut order: Vec<usize> = (0..banks.ids.len()).collect();
    let total =
        |i: usize| i128::from(network.out_strength_fen[i]) + i128::from(network.in_strength_fen[i]);
    order.sort_by(|&a, &b| total(b).cmp(&total(a)).then(a.cmp(&b)));
    order.truncate(HEATMAP_BANKS.min(network.active));
    let position = |bank: u32| order.iter().position(|&i| i == bank as usize);
    let mut cells = vec![vec![0i64; order.len()]; order.len()];
    for &((s, r), (_, value)) in &network.flows {
        if let (Some(row), Some(column)) = (position(s), position(r)) {
            cells[row][column] = value;
        }
    }
    let shown = if order.len() < network.active {
        format!(
            "the {} banks with the most value paid and received",
            order.len()
        )
    } else {
        "every bank".to_string()
    };
    Chart::Heatmap(Heatmap {
        title: format!("Bilateral flows of {} among {shown}", banks.period()),
        axes: format!("payer (row) → payee (column), {} value", banks.period_of()),
        labels: order.iter().map(|&i| banks.ids[i].clone()).collect(),
        cells_fen: cells,
    })
}
