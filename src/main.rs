//! The `clearsim` command: arguments in, results printed; the work is in
//! the library crates below it.

mod cli;

use std::process::ExitCode;

fn main() -> ExitCode {
    cli::main()
}
