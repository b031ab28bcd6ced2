//! Feeds arbitrary UTF-8 to the command parser: it must never panic.
//! Run with `cargo +nightly fuzz run parse` from `commands/`.

#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    for bot in [Some("HeraldBot"), None] {
        if let Ok(Some(command)) = herald_commands::parse(text, bot) {
            let _ = command.spec();
        }
    }
});
