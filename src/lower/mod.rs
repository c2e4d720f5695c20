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
    module
}

/// Parse and lower `text` (tests, debugging).
pub fn lower_text(lang: Lang, path: &Path, text: &str) -> Option<Module> {
    let tree = crate::lang::parse(lang, text)?;
    Some(lower(lang, path, text, &tree))
}
