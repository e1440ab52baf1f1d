use std::process::ExitCode;

fn main() -> ExitCode {
    clearsim::cli::main()
}
