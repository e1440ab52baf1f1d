//! A report as data, rendered twice: `report.md` and `report.html` come
//! from the one [`Document`], so they show the same sections, tables,
//! notes and headline in the same order and cannot drift apart. Charts
//! are drawn in the HTML only; the markdown names each one where it
//! stands, so a reader of either knows what the other shows.

use super::chart::{Chart, escape};
use super::table::Table;

/// One part of a report's body, in reading order.
pub enum Block {
    /// A section heading.
    Heading(String),
    /// A paragraph: how to read what follows, or what it leaves out.
    Note(String),
    Table(Table),
    Chart(Chart),
}

/// A report: what it is (title, context), what it says first (headline),
/// and its body.
pub struct Document {
    pub title: String,
    /// What the report is: scenario, seeds, days, designs, version.
    pub context: Vec<String>,
    /// The one line a reader should take away, if there is one.
    pub headline: Option<String>,
    pub blocks: Vec<Block>,
}

impl Document {
    pub fn new(title: impl Into<String>, context: Vec<String>) -> Document {
        Document {
            title: title.into(),
            context,
            headline: None,
            blocks: Vec::new(),
        }
    }

    pub fn heading(&mut self, text: impl Into<String>) {
        self.blocks.push(Block::Heading(text.into()));
    }

    pub fn note(&mut self, text: impl Into<String>) {
        self.blocks.push(Block::Note(text.into()));
    }

    pub fn table(&mut self, table: Table) {
        self.blocks.push(Block::Table(table));
    }

    pub fn chart(&mut self, chart: Chart) {
        self.blocks.push(Block::Chart(chart));
    }

    /// `report.md` and `report.html`.
    pub fn files(&self) -> [(&'static str, Vec<u8>); 2] {
        self.files_as("report.md", "report.html")
    }

    /// The markdown file `md` and the html file `html`, the markdown
    /// naming `html` where a chart is.
    pub fn files_as(&self, md: &'static str, html: &'static str) -> [(&'static str, Vec<u8>); 2] {
        [
            (md, self.markdown_beside(html).into_bytes()),
            (html, self.html().into_bytes()),
        ]
    }

    /// The markdown of report.md.
    pub fn markdown(&self) -> String {
        self.markdown_beside("report.html")
    }

    /// GitHub-flavoured markdown: context lines as hard breaks, the
    /// headline in bold, each block a paragraph of its own; a chart named
    /// with the `html` file that draws it.
    fn markdown_beside(&self, html: &str) -> String {
        let mut out = format!("# {}\n\n", self.title);
        for line in &self.context {
            out += &format!("{line}  \n");
        }
        if let Some(headline) = &self.headline {
            out += &format!("\n**{headline}**\n");
        }
        for block in &self.blocks {
            out += "\n";
            out += &match block {
                Block::Heading(text) => format!("## {text}\n"),
                Block::Note(text) => format!("{text}\n"),
                Block::Table(table) => table.markdown(),
                Block::Chart(chart) => format!("*Chart in {html}: {}.*\n", chart.title()),
            };
        }
        out
    }

    /// A self-contained page: no script, no network, no CDN.
    pub fn html(&self) -> String {
        let mut out = String::from(
            "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width\">",
        );
        out += &format!(
            "<title>{}</title><style>{STYLE}</style></head><body>",
            escape(&self.title)
        );
        out += &format!("<h1>{}</h1>", escape(&self.title));
        out += "<div class=\"context\">";
        for line in &self.context {
            out += &format!("<div>{}</div>", escape(line));
        }
        out += "</div>";
        if let Some(headline) = &self.headline {
            out += &format!(
                "<p class=\"headline\" id=\"headline\">{}</p>",
                escape(headline)
            );
        }
        for block in &self.blocks {
            out += &match block {
                Block::Heading(text) => format!("<h2>{}</h2>", escape(text)),
                Block::Note(text) => format!("<p class=\"note\">{}</p>", escape(text)),
                Block::Table(table) => html_table(table),
                Block::Chart(chart) => chart.figure(),
            };
        }
        out += "</body></html>\n";
        out
    }
}

const STYLE: &str = "body{font-family:system-ui,sans-serif;margin:0 auto;padding:1.5em;max-width:1200px;color:#222}\
h1{font-size:1.6em}h2{font-size:1.25em;margin-top:1.8em}\
.context{background:#f6f8fa;border:1px solid #ddd;padding:.6em 1em;border-radius:6px}\
.headline{font-size:1.2em;background:#eef6ee;border-left:6px solid #2a7a2a;padding:.7em 1em;margin:1em 0}\
.scroll{overflow-x:auto;max-width:100%;border:1px solid #eee}\
table{border-collapse:collapse;margin:0;font-size:.9em}\
td,th{border:1px solid #ccc;padding:3px 7px;text-align:right;white-space:nowrap}\
td:first-child,th:first-child{text-align:left}\
th{background:#f3f3f3;white-space:normal;vertical-align:bottom;min-width:4em}\
figure{margin:1.5em 0}figure svg{width:100%;height:auto;display:block}\
figcaption{font-weight:bold;margin-bottom:.3em}\
.legend{display:flex;flex-wrap:wrap;gap:.3em 1.2em;font-size:.85em;margin-top:.3em}\
.legend span{white-space:nowrap}.note{color:#555;font-size:.9em}";

/// A table in a box that scrolls sideways when wider than the page.
fn html_table(table: &Table) -> String {
    let mut out = String::from("<div class=\"scroll\"><table><thead><tr>");
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
    out += "</tbody></table></div>";
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Document {
        let mut doc = Document::new("clearsim run — a & b", vec!["Scenario x.".into()]);
        doc.headline = Some("Cheques 2 h faster.".into());
        doc.heading("Channels");
        doc.note("How to read <this>.");
        let mut table = Table::new(&["flow", "payments"]);
        table.rows.push(vec!["cheque".into(), "1,000".into()]);
        doc.table(table);
        doc
    }

    #[test]
    fn markdown_and_html_show_the_same_blocks_in_the_same_order() {
        let doc = sample();
        assert_eq!(
            doc.markdown(),
            "# clearsim run — a & b\n\nScenario x.  \n\n**Cheques 2 h faster.**\n\n## Channels\n\nHow to read <this>.\n\n| flow | payments |\n| --- | --- |\n| cheque | 1,000 |\n"
        );
        let html = doc.html();
        let order: Vec<usize> = [
            "<h1>clearsim run — a &amp; b</h1>",
            "<div>Scenario x.</div>",
            "id=\"headline\">Cheques 2 h faster.</p>",
            "<h2>Channels</h2>",
            "<p class=\"note\">How to read &lt;this&gt;.</p>",
            "<td>cheque</td><td>1,000</td>",
        ]
        .iter()
        .map(|part| html.find(part).unwrap_or_else(|| panic!("{part} missing")))
        .collect();
        assert!(order.windows(2).all(|w| w[0] < w[1]), "{order:?}");
        assert!(html.ends_with("</body></html>\n"));
    }
}
