//! Lowering: tree-sitter trees to the language-neutral IR (`crate::ir`).
//! The only code of the second-generation core that knows node kinds; one
//! lowering per grammar family.

pub mod javascript;
pub mod python;

use crate::ir::Module;
use crate::lang::Lang;
use std::path::Path;

/// Nesting beyond which lowering stops descending (the module is marked
/// `truncated`): keeps recursion bounded on generated or hostile input.
pub const MAX_DEPTH: usize = 256;

/// Lower a parsed file. The tree can be dropped afterwards.
pub fn lower(lang: Lang, path: &Path, text: &str, tree: &tree_sitter::Tree) -> Module {
    let mut module = match lang {
        Lang::Python => python::lower(text, tree),
        Lang::JavaScript | Lang::TypeScript | Lang::Tsx => javascript::lower(text, tree),
    };
    module.path = path.to_path_buf();
    module.lang = Some(lang);
    module.source = text.to_string();
    module
}

/// Parse and lower `text` (tests, debugging).
pub fn lower_text(lang: Lang, path: &Path, text: &str) -> Option<Module> {
    let tree = crate::lang::parse(lang, text)?;
    Some(lower(lang, path, text, &tree))
}

/// Files above this size are not lowered (see `worth_lowering`).
pub const MAX_LOWERED_BYTES: usize = 1 << 20;

/// Does a file contain anything the model's current queries can use (a
/// client address, a limiter, a store)? Files without any of these words
/// are not lowered. Case-insensitive literal scan, no parse.
pub fn worth_lowering(text: &str) -> bool {
    // Generated bundles (a 9 MB compiler, a docs search index) hold no
    // limiter worth reporting and would dominate the model's memory.
    if text.len() > MAX_LOWERED_BYTES {
        return false;
    }
    use aho_corasick::AhoCorasick;
    use std::sync::OnceLock;
    static MARKERS: OnceLock<AhoCorasick> = OnceLock::new();
    let markers = MARKERS.get_or_init(|| {
        AhoCorasick::builder()
            .ascii_case_insensitive(true)
            .build([
                // Client addresses and the headers that carry them.
                "forwarded",
                "remote_addr",
                "remoteaddress",
                "remote_ip",
                "real-ip",
                "real_ip",
                "client.host",
                "client_ip",
                "clientip",
                "access_route",
                "req.ip",
                "ctx.ip",
                "request.ip",
                "c.req",
                // Limiters and stores.
                "limit",
                "throttl",
                "redis",
                // A 429 of any spelling: that code is limiting code
                // whatever it is called (`limits_requests`).
                "429",
                "too_many_requests",
                "toomanyrequests",
                // Lockouts (`knowledge::is_limiter_name`).
                "loginattempt",
                "login_attempt",
                "failedlogin",
                "failed_login",
                "lockout",
                // Sweeps of store keys by pattern (RATE005: keys that a
                // scheduled task deletes are not kept for ever).
                "scan_iter",
                "scaniterator",
                "scanstream",
            ])
            .expect("literal markers build")
    });
    markers.is_match(text)
}

/// Words that say a file limits requests itself (a 429, a limiter's or
/// throttle's name): its import neighbours are lowered too, since the
/// limiter's key, store or state often lives there. Narrower than
/// `worth_lowering`, whose `limit` matches most libraries.
pub fn limits_requests(text: &str) -> bool {
    use aho_corasick::AhoCorasick;
    use std::sync::OnceLock;
    static MARKERS: OnceLock<AhoCorasick> = OnceLock::new();
    let markers = MARKERS.get_or_init(|| {
        AhoCorasick::builder()
            .ascii_case_insensitive(true)
            .build([
                "429",
                "too_many_requests",
                "toomanyrequests",
                "ratelimit",
                "rate_limit",
                "rate-limit",
                "throttl",
                "limiter",
            ])
            .expect("literal markers build")
    });
    markers.is_match(text)
}
