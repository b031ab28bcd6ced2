//! Prints the command table for the README, generated from the catalog:
//! `cargo run -p herald-commands --example catalog_markdown`.

fn main() {
    print!("{}", herald_commands::catalog_markdown());
}
