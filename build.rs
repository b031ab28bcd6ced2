//! Embeds `templates/` into the binary, so `herald` runs from anywhere without its source tree.

fn main() {
    minijinja_embed::embed_templates!("templates");
}
