//! Post templates render exactly as real Jinja2 renders them: the reference system's three sample templates,
//! for a context with Unicode, emoji and a long title, on three networks. The expected outputs were made by
//! `tests/fixtures/templates/render_jinja2.py` with Jinja2 3.1.6 and the same filters.

#![allow(clippy::unwrap_used)]

use std::path::Path;

use herald::campaign::template;

fn fixtures() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/templates")
}

#[test]
fn the_sample_templates_render_as_jinja2_renders_them() {
    let dir = fixtures();
    let context: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("context.json")).unwrap()).unwrap();
    let mut compared = 0;
    for entry in std::fs::read_dir(dir.join("expected")).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_str().unwrap().to_owned();
        let (stem, network) = name
            .strip_suffix(".txt")
            .and_then(|n| n.rsplit_once('.'))
            .unwrap();
        let source = std::fs::read_to_string(dir.join(format!("{stem}.j2"))).unwrap();
        let expected = std::fs::read_to_string(&path).unwrap();
        let rendered = template::render(&source, &context, network)
            .unwrap_or_else(|e| panic!("{stem} for {network}: {e}"));
        assert_eq!(rendered, expected, "{stem} for {network}");
        compared += 1;
    }
    assert_eq!(compared, 9, "three templates, three networks");
}
