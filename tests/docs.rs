//! Docs that cannot go stale: every sample output quoted in README.md and
//! docs/*.md is what the command prints today.
//!
//! A sample is a comment naming the command, then a fenced block:
//!
//! ````text
//! <!-- sample: clearsim run configs/chengdu-2005.toml --days 1 -->
//! ```
//! …what it prints…
//! ```
//! ````
//!
//! The test runs each command (in a temporary output directory: `--out` is
//! added) and compares its stdout, less the lines that time the machine,
//! with the block. `scripts/docs.sh` (`UPDATE_DOCS=1`) writes the blocks
//! instead: the one way samples are made.

mod common;

use std::path::{Path, PathBuf};

use common::cli::{clearsim, ok};

const MARK: &str = "<!-- sample: clearsim ";

/// Lines that time the machine, not the model: left out of samples.
fn timed(line: &str) -> bool {
    [
        "payments/s",
        " s on ",
        "report in ",
        "results in ",
        "  engine ",
    ]
    .iter()
    .any(|t| line.contains(t))
}

/// Splits a command line: spaces separate, '…' or "…" quote.
fn words(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut word = String::new();
    let mut quote: Option<char> = None;
    let mut any = false;
    for c in text.chars() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), c) => word.push(c),
            (None, '\'' | '"') => {
                quote = Some(c);
                any = true;
            }
            (None, ' ') => {
                if any || !word.is_empty() {
                    out.push(std::mem::take(&mut word));
                }
                any = false;
            }
            (None, c) => word.push(c),
        }
    }
    if any || !word.is_empty() {
        out.push(word);
    }
    out
}

/// What `args` prints today, timing lines left out.
fn sample(args: &[String], out: &Path) -> String {
    let mut args: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = out.display().to_string();
    args.extend(["--out", &out]);
    // The scratch directory reads as the default output directory.
    let stdout = ok(&clearsim(&args)).replace(&out, "out");
    stdout
        .lines()
        .filter(|l| !timed(l))
        .map(|l| format!("{}\n", l.trim_end()))
        .collect()
}

/// The first sample comment that starts a line.
fn find_mark(text: &str) -> Option<usize> {
    let mut from = 0;
    while let Some(i) = text[from..].find(MARK) {
        let at = from + i;
        if at == 0 || text.as_bytes()[at - 1] == b'\n' {
            return Some(at);
        }
        from = at + MARK.len();
    }
    None
}

fn documents() -> Vec<PathBuf> {
    let mut files = vec![PathBuf::from("README.md")];
    for entry in std::fs::read_dir("docs").expect("docs") {
        let path = entry.expect("entry").path();
        if path.extension().is_some_and(|e| e == "md") {
            files.push(path);
        }
    }
    files.sort();
    files
}

/// The document with every sample made anew, and how many it has.
fn refreshed(text: &str, scratch: &Path) -> (String, usize) {
    let mut out = String::new();
    let mut rest = text;
    let mut count = 0;
    // A sample's comment starts its line (prose may name the form inline).
    while let Some(at) = find_mark(rest) {
        let line_end = at
            + rest[at..]
                .find('\n')
                .expect("a sample comment ends its line");
        let command = rest[at + MARK.len()..line_end]
            .trim()
            .strip_suffix("-->")
            .expect("a sample comment ends with -->")
            .trim();
        let after = &rest[line_end + 1..];
        assert!(
            after.starts_with("```\n"),
            "a fenced block follows `{command}`"
        );
        // The closing fence: right away for an empty block, else after a
        // line of it.
        let body = &after[4..];
        let close = if body.starts_with("```\n") {
            4
        } else {
            4 + 1 + body.find("\n```\n").expect("the block closes")
        };
        count += 1;
        let printed = sample(&words(command), &scratch.join(count.to_string()));
        out += &rest[..=line_end];
        out += "```\n";
        out += &printed;
        rest = &after[close..];
    }
    out += rest;
    (out, count)
}

#[test]
fn quoted_samples_are_what_the_commands_print() {
    let scratch = tempfile::tempdir().expect("tempdir");
    let update = std::env::var_os("UPDATE_DOCS").is_some();
    let mut samples = 0;
    for path in documents() {
        let text = std::fs::read_to_string(&path).expect("doc");
        if find_mark(&text).is_none() {
            continue;
        }
        let dir = scratch.path().join(path.file_stem().expect("stem"));
        let (fresh, count) = refreshed(&text, &dir);
        samples += count;
        if update {
            std::fs::write(&path, &fresh).expect("write");
        } else {
            assert!(
                fresh == text,
                "{}: a quoted sample differs from what its command prints now (scripts/docs.sh rewrites them):\n{}",
                path.display(),
                first_difference(&text, &fresh)
            );
        }
    }
    assert!(samples >= 4, "only {samples} samples");
}

fn first_difference(old: &str, new: &str) -> String {
    for (a, b) in old.lines().zip(new.lines()) {
        if a != b {
            return format!("quoted: {a}\nprinted: {b}");
        }
    }
    "the lengths differ".into()
}

#[test]
fn command_lines_split_as_a_shell_would() {
    assert_eq!(
        words(r#"compare c.toml --strategies "design; rtgs" -q"#),
        ["compare", "c.toml", "--strategies", "design; rtgs", "-q"]
    );
    assert_eq!(words("plan a 'b c'"), ["plan", "a", "b c"]);
}
