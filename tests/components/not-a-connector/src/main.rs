//! A WASI command component: valid WebAssembly, but it exports `wasi:cli/run`
//! instead of `guichet:connector/connector`, so installing it must fail.

fn main() {
    let _ = std::hint::black_box(1 + 1);
}
