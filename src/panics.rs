//! What a panic prints. Rust's default hook prints the panic's message, and messages quote
//! what was being handled: a slice of a data file (`byte index 430 is not a char boundary;
//! it is inside … of `<the file's text>``), an `unwrap` of a value. Data files hold
//! credentials, and stderr ends up in editor logs and CI output, so the message is withheld
//! and only where the panic happened is printed. `HOMELAB_LSP_PANIC_MESSAGES=1` prints it
//! (for debugging on your own data).

/// Replaces the panic hook for the whole process.
pub fn install_hook() {
    let full = std::env::var("HOMELAB_LSP_PANIC_MESSAGES").is_ok_and(|v| v == "1");
    let default = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        if full {
            default(info);
            return;
        }
        let at = info.location().map(|l| format!("{}:{}:{}", l.file(), l.line(), l.column())).unwrap_or_else(|| "unknown".into());
        let thread = std::thread::current().name().unwrap_or("unnamed").to_string();
        eprintln!(
            "homelab-lsp: internal error (a bug) in thread '{thread}' at {at}; its message is withheld because it may quote file contents (set HOMELAB_LSP_PANIC_MESSAGES=1 to see it)"
        );
    }));
}

/// A panic payload as text for an error answer: never the message (see the module doc).
pub fn describe(_payload: &(dyn std::any::Any + Send)) -> &'static str {
    "a bug in homelab-lsp; the server log has where it happened"
}
