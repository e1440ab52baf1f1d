//! The `clearsim` command: arguments in, results printed; the work is in
//! the library crates below it.

#![forbid(unsafe_code)]

mod cli;

use std::process::ExitCode;

fn main() -> ExitCode {
    cli::main()
}
