//! The `guichet` binary: see [`guichet_host::cli`].

fn main() -> std::process::ExitCode {
    guichet_host::cli::main()
}
