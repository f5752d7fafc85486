//! The `guichet` binary: see [`guichet_host::cli`].

#[global_allocator]
static ALLOCATOR: guichet_host::Allocator = guichet_host::Allocator;

fn main() -> std::process::ExitCode {
    guichet_host::cli::main()
}
