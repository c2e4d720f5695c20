//! The language-neutral IR (second-generation core, see README
//! "Architecture" and `../shared/design/ARCHITECTURE.md`, "Data flow").
//!
//! Lowering (`crate::lower`) is the only code that knows tree-sitter node
//! kinds; it turns one file into one `Module`. Everything after it (the
//! project model, value roles, rules) reads this IR and never branches on
//! the language for syntax. Python keyword arguments and JS option objects
//! are both "named arguments" (`Call::named_arg`).
//!
//! The IR is flat: each module owns arenas of functions, classes,
//! statements and expressions, addressed by `u32` ids. Every node keeps its
//! byte span in the source, for locations and snippets.

use crate::lang::Lang;
use std::ops::Range;
use std::path::PathBuf;

pub type Span = Range<usize>;

macro_rules! id_type {
    ($name:ident) => {
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(pub u32);
        impl $name {
            pub fn index(self) -> usize {
                self.0 as usize
            }
        }
    };
}
id_type!(FuncId);
id_type!(ClassId);
id_type!(StmtId);
id_type!(ExprId);

/// One source file, lowered.
#[derive(Debug, Default, Clone)]
pub struct Module {
    pub path: PathBuf,
    pub lang: Option<Lang>,
    /// Import bindings in source order, wherever they appear (a function-level
    /// import is listed too; its `Stmt::Import` says where).
    pub imports: Vec<Import>,
    /// What the module exports (JS `export`, `module.exports`, `exports.x`).
    /// Python modules export every top-level name, so Python lowering lists
    /// nothing here but `__all__`-free re-exports are resolved by the model.
    pub exports: Vec<Export>,
    /// `functions[0]` is the module's top-level code (name `None`, no
    /// params); every other function, method, lambda or arrow follows.
    pub functions: Vec<Function>,
    pub classes: Vec<Class>,
    pub stmts: Vec<Stmt>,
    pub exprs: Vec<Expr>,
    /// Error or missing nodes seen while lowering.
    pub syntax_errors: u32,
    /// Nesting deeper than the lowering follows: the deepest parts are
    /// `ExprKind::Unknown` / skipped statements.
    pub truncated: bool,
    /// The source text, for the text of spans in messages. (Kept while the
    /// first-generation facts still run beside the model; the speed work
    /// should keep only the snippets findings need.)
    pub source: String,
    /// `(offset, innermost function from there on)`, by offset; see
    /// `function_at`.
    function_segments: std::sync::OnceLock<Vec<(usize, FuncId)>>,
}

/// Function spans nest (or are disjoint), so one sweep in start order with
/// a stack of open functions gives, at every start and end, the innermost
/// function from that offset on. Of two functions with the same span the
/// first one listed is innermost.
fn function_segments(functions: &[Function]) -> Vec<(usize, FuncId)> {
    let mut order: Vec<usize> = (1..functions.len()).collect();
    order.sort_by_key(|&i| {
        let span = &functions[i].span;
        (
            span.start,
            std::cmp::Reverse(span.len()),
            std::cmp::Reverse(i),
        )
    });
    let mut segments = vec![(0, Module::TOP)];
    let mut open: Vec<usize> = Vec::new();
    let innermost = |open: &[usize]| open.last().map_or(Module::TOP, |&i| FuncId(i as u32));
    for i in order {
        let span = &functions[i].span;
        while let Some(&last) = open.last() {
            if functions[last].span.end > span.start {
                break;
            }
            open.pop();
            segments.push((functions[last].span.end, innermost(&open)));
        }
        if span.is_empty() {
            continue;
        }
        open.push(i);
        segments.push((span.start, FuncId(i as u32)));
    }
    while let Some(last) = open.pop() {
        segments.push((functions[last].span.end, innermost(&open)));
    }
    segments
}

impl Module {
    pub const TOP: FuncId = FuncId(0);

    pub fn func(&self, id: FuncId) -> &Function {
        &self.functions[id.index()]
    }
    pub fn class(&self, id: ClassId) -> &Class {
        &self.classes[id.index()]
    }
    pub fn stmt(&self, id: StmtId) -> &Stmt {
        &self.stmts[id.index()]
    }
    pub fn expr(&self, id: ExprId) -> &Expr {
        &self.exprs[id.index()]
    }
    pub fn is_python(&self) -> bool {
        self.lang.is_some_and(|l| l.is_python())
    }

    /// The innermost function whose span holds the byte offset; `TOP` for
    /// module code. A binary search in segments built once per module, so
    /// rules may ask for every finding of a 50,000-function file.
    pub fn function_at(&self, offset: usize) -> FuncId {
        let segments = self
            .function_segments
            .get_or_init(|| function_segments(&self.functions));
        let after = segments.partition_point(|&(start, _)| start <= offset);
        after.checked_sub(1).map_or(Module::TOP, |i| segments[i].1)
    }

    /// Text of a name or attribute chain (`self.r.incr`), `None` for
    /// anything else. For messages and table look-ups of dotted paths.
    pub fn dotted(&self, id: ExprId) -> Option<String> {
        match &self.expr(id).kind {
            ExprKind::Name(n) => Some(n.clone()),
            ExprKind::Attr { obj, name } => {
                let base = self.dotted(*obj)?;
                Some(format!("{base}.{name}"))
            }
            ExprKind::This => Some(if self.is_python() { "self" } else { "this" }.to_string()),
            _ => None,
        }
    }

    /// The source text of a span (empty when out of range).
    pub fn text(&self, span: &Span) -> &str {
        self.source.get(span.clone()).unwrap_or("")
    }

    /// A module with only its (empty) top-level code: for files that were
    /// not lowered, so module ids stay aligned with file ids.
    pub fn empty(path: PathBuf, lang: Option<Lang>) -> Module {
        Module {
            path,
            lang,
            functions: vec![Function::module_code(0..0)],
            ..Module::default()
        }
    }

    /// A string literal's value (a template without interpolations counts).
    pub fn str_value(&self, id: ExprId) -> Option<&str> {
        match &self.expr(id).kind {
            ExprKind::Str(s) => Some(s),
            ExprKind::Template(parts) => match parts.as_slice() {
                [TemplatePart::Str(s)] => Some(s),
                _ => None,
            },
            _ => None,
        }
    }
}

#[derive(Debug, Clone)]
pub struct Import {
    /// The module as written: `flask`, `.limiter`, `./limiter`, `@/lib/redis`.
    pub module: String,
    /// The imported member: `Some("request")` for `from flask import request`
    /// / `import { request } from …`; `Some("default")` for a JS default
    /// import; `None` for the module itself (`import redis`, `import * as r`,
    /// `const r = require('redis')`).
    pub name: Option<String>,
    /// The local binding (`r` in `import redis as r`). For Python
    /// `import a.b` the local is `a` and `name` is `None`, `module` `a.b`.
    pub local: String,
    pub span: Span,
    /// The function the import statement is in (`TOP` for module level).
    pub function: FuncId,
}

#[derive(Debug, Clone)]
pub struct Export {
    /// The exported name (`default` for `export default` / `module.exports =`).
    pub name: String,
    pub value: ExportValue,
    pub span: Span,
}

#[derive(Debug, Clone)]
pub enum ExportValue {
    /// A local binding of this module (`export { a as b }`, `export const a`,
    /// `module.exports = a`, `exports.b = a` when `a` is a name).
    Local(String),
    /// An expression (`module.exports = new Limiter()`, `export default
    /// rateLimit({...})`, `module.exports = { a, b }` gives one `Export` per
    /// property).
    Expr(ExprId),
    /// `export { x as name } from 'module'` / `export * from 'module'`
    /// (`name: "*"`, `member: None`).
    ReExport {
        module: String,
        member: Option<String>,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FunctionKind {
    /// The module's top-level code.
    Module,
    /// `def` / `function` / a class method.
    Def,
    /// `lambda` / arrow function / function expression.
    Lambda,
}

#[derive(Debug, Clone)]
pub struct Function {
    pub name: Option<String>,
    pub kind: FunctionKind,
    /// The whole function, including decorators.
    pub span: Span,
    /// The name (or the function's start for anonymous ones): where a
    /// finding about the function points.
    pub name_span: Span,
    pub params: Vec<Param>,
    pub body: Vec<StmtId>,
    /// An arrow or lambda whose body is an expression: lowered as one
    /// `Stmt::Return`.
    pub is_async: bool,
    pub is_generator: bool,
    /// The enclosing function (`None` only for `TOP`).
    pub parent: Option<FuncId>,
    /// Set for methods: the class whose body defines it.
    pub class: Option<ClassId>,
    /// `@decorator` expressions (Python and TS), outermost first.
    pub decorators: Vec<ExprId>,
    /// `static` / `@staticmethod` / `@classmethod`.
    pub is_static: bool,
}

impl Function {
    /// The module's top-level code, spanning `span`.
    pub fn module_code(span: Span) -> Function {
        Function {
            name: None,
            kind: FunctionKind::Module,
            name_span: span.start..span.start,
            span,
            params: Vec::new(),
            body: Vec::new(),
            is_async: false,
            is_generator: false,
            parent: None,
            class: None,
            decorators: Vec::new(),
            is_static: false,
        }
    }
}

#[derive(Debug, Clone)]
pub struct Param {
    pub name: String,
    pub span: Span,
    /// Python annotation / TS type, as an expression (`Request`,
    /// `express.Request`); generic arguments dropped.
    pub annotation: Option<ExprId>,
    pub default: Option<ExprId>,
    /// `*args`, `**kwargs`, `...rest`.
    pub rest: bool,
    /// TS / NestJS parameter decorators (`@Req()`), outermost first.
    pub decorators: Vec<ExprId>,
    /// Names bound by a destructuring parameter (`{ ip, headers }`), with
    /// the property each takes (`ip`), in order.
    pub destructured: Vec<(String, String)>,
}

#[derive(Debug, Clone)]
pub struct Class {
    pub name: Option<String>,
    pub span: Span,
    pub name_span: Span,
    pub bases: Vec<ExprId>,
    pub decorators: Vec<ExprId>,
    pub methods: Vec<FuncId>,
    /// Class-level statements (Python class body assignments, JS class
    /// fields as `Assign { target: Attr(This, field) }` with `is_static`
    /// fields as `Attr(Name(class), field)`).
    pub body: Vec<StmtId>,
    /// The function the class is defined in (`TOP` for module level).
    pub function: FuncId,
}

#[derive(Debug, Clone)]
pub struct Stmt {
    pub kind: StmtKind,
    pub span: Span,
}

#[derive(Debug, Clone)]
pub enum StmtKind {
    Expr(ExprId),
    /// `a = b`, `a.b = c`, `a[k] = v`, `let a = b`, `a += 1` (`op:
    /// Some(Add)`), `a ??= b` (`op: Some(Nullish)`). Destructuring: each
    /// bound name gets its own `Assign` whose value is `Attr(value, prop)`
    /// (objects) or `Subscript(value, index)` (arrays / tuples), all with the
    /// statement's span. A declaration without a value (`let a;`) has no
    /// statement.
    Assign {
        target: ExprId,
        value: ExprId,
        op: Option<BinOp>,
        /// `const` / `let` / `var` / Python annotated assignment.
        declares: bool,
    },
    Return(Option<ExprId>),
    If {
        cond: ExprId,
        then: Vec<StmtId>,
        /// `elif` lowers to a nested `If` as the only statement here.
        otherwise: Vec<StmtId>,
    },
    /// `for x in it`, `for (const x of it)`, `for (k in o)`, `while`,
    /// `do … while`, C-style `for` (its init and update as statements
    /// before the loop / at the end of the body).
    Loop {
        /// The bound variable (`for x in …`), if any.
        target: Option<ExprId>,
        /// The iterated value, or the `while` condition.
        iter: Option<ExprId>,
        body: Vec<StmtId>,
        otherwise: Vec<StmtId>,
        is_while: bool,
    },
    Try {
        body: Vec<StmtId>,
        handlers: Vec<Handler>,
        /// Python `else:`.
        otherwise: Vec<StmtId>,
        finally: Vec<StmtId>,
    },
    /// `with a as b, c:` / `async with` / TS `using`.
    With {
        items: Vec<(ExprId, Option<ExprId>)>,
        body: Vec<StmtId>,
        is_async: bool,
    },
    /// `raise X` / `throw X`; `None` for a bare re-raise.
    Raise(Option<ExprId>),
    Delete(Vec<ExprId>),
    /// `global a, b` / `nonlocal a`.
    Global(Vec<String>),
    FunctionDef(FuncId),
    ClassDef(ClassId),
    /// An import statement; its bindings are `Module::imports[range]`.
    Import(Range<usize>),
    /// `break`, `continue`, `pass`, empty statements.
    Jump,
    /// A `switch`/`match` lowered as an `If` chain where the analysis
    /// needs it; anything else the lowering does not model, with the
    /// expressions found directly inside it (so calls are still seen).
    Other(Vec<ExprId>, Vec<StmtId>),
}

#[derive(Debug, Clone)]
pub struct Handler {
    /// The caught types (`except (RedisError, ConnectionError)`); empty
    /// for a bare `except:` / JS `catch`.
    pub types: Vec<ExprId>,
    pub name: Option<String>,
    pub body: Vec<StmtId>,
    pub span: Span,
}

#[derive(Debug, Clone)]
pub struct Expr {
    pub kind: ExprKind,
    pub span: Span,
}

#[derive(Debug, Clone)]
pub enum ExprKind {
    Name(String),
    /// `self` / `this` (Python lowers a method's first parameter named
    /// `self` as `This` too; `cls` in a classmethod stays a `Name`).
    This,
    /// `super()` / `super`.
    Super,
    /// `a.b`, `a?.b`.
    Attr {
        obj: ExprId,
        name: String,
    },
    /// `a[b]`, `a?.[b]`.
    Subscript {
        obj: ExprId,
        index: ExprId,
    },
    /// Python slices `a[1:]` lower as `Subscript` with `Slice` index.
    Slice(Vec<Option<ExprId>>),
    Call(Call),
    Str(String),
    Num(f64),
    Bool(bool),
    /// `None`, `null`, `undefined`.
    Null,
    /// f-strings, template literals, `"%s" % x`-free string building is a
    /// `BinOp`. Parts in order.
    Template(Vec<TemplatePart>),
    /// `{k: v}` / `{ k: v, [e]: v, ...o, short }` / `dict(k=v)` stays a call.
    Dict(Vec<DictEntry>),
    List(Vec<ExprId>),
    Tuple(Vec<ExprId>),
    Set(Vec<ExprId>),
    /// `a or b`, `a || b`, `a ?? b`, `a and b`, `a && b`.
    Logic {
        op: LogicOp,
        left: ExprId,
        right: ExprId,
    },
    /// `a if c else b` / `c ? a : b`.
    Ternary {
        cond: ExprId,
        then: ExprId,
        otherwise: ExprId,
    },
    /// Comparisons; Python chains `a < b < c` lower to `Logic And` of pairs.
    Compare {
        op: CmpOp,
        left: ExprId,
        right: ExprId,
    },
    Binary {
        op: BinOp,
        left: ExprId,
        right: ExprId,
    },
    Unary {
        op: UnaryOp,
        operand: ExprId,
    },
    /// A lambda, arrow or function expression: its `Function`.
    Function(FuncId),
    /// A class expression.
    Class(ClassId),
    Await(ExprId),
    /// `yield x`.
    Yield(Option<ExprId>),
    /// `x := v` (Python) — also JS assignment used as an expression
    /// (`(a = b)`).
    AssignExpr {
        target: ExprId,
        value: ExprId,
    },
    /// `...x` / `*x` / `**x` outside a call's arguments.
    Spread(ExprId),
    /// List/dict/set comprehensions and generator expressions: the element
    /// expression(s), the iterated values and conditions, all as children.
    Comprehension(Vec<ExprId>),
    /// Anything else (regex literals, JSX, TS `as`/`!`/`satisfies` are
    /// NOT here: those lower to their inner expression), with the
    /// sub-expressions found directly inside it.
    Unknown(Vec<ExprId>),
}

#[derive(Debug, Clone)]
pub struct Call {
    pub callee: ExprId,
    /// Positional arguments in order (a JS option object stays here as a
    /// `Dict`; `named_arg` looks into it).
    pub args: Vec<ExprId>,
    /// Python keyword arguments (`name=value`), in order. `**kwargs` is a
    /// positional `Spread`.
    pub keywords: Vec<(String, ExprId)>,
    /// `new X(...)`.
    pub is_new: bool,
}

#[derive(Debug, Clone)]
pub enum TemplatePart {
    Str(String),
    Expr(ExprId),
}

#[derive(Debug, Clone)]
pub enum DictKey {
    /// An identifier or string key (`{store: x}`, `{"store": x}`).
    Name(String),
    /// A computed key (`{[k]: v}`, Python `{k: v}` with a non-literal `k`).
    Computed(ExprId),
    /// `...o` / `**o`: the value is the spread object.
    Spread,
}

#[derive(Debug, Clone)]
pub struct DictEntry {
    pub key: DictKey,
    pub value: ExprId,
    pub span: Span,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogicOp {
    Or,
    And,
    /// `??`
    Nullish,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CmpOp {
    Eq,
    NotEq,
    Lt,
    LtE,
    Gt,
    GtE,
    In,
    NotIn,
    Is,
    IsNot,
    InstanceOf,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BinOp {
    Add,
    Sub,
    Mul,
    Div,
    FloorDiv,
    Mod,
    Pow,
    /// Bitwise and shifts, `@`: rarely relevant.
    Other,
    /// Only as an `Assign` operator: `??=`, `||=` (Or), `&&=`.
    Nullish,
    Or,
    And,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UnaryOp {
    Not,
    Neg,
    Plus,
    TypeOf,
    Void,
    Delete,
    Other,
}

impl Call {
    /// A named argument: a Python keyword, or a property of a JS option
    /// object passed as the last positional argument (or as `index`).
    pub fn named_arg(&self, module: &Module, name: &str) -> Option<ExprId> {
        if let Some((_, v)) = self.keywords.iter().find(|(k, _)| k == name) {
            return Some(*v);
        }
        let obj = *self.args.last()?;
        dict_get(module, obj, name)
    }
}

/// A property of a `Dict` expression by its literal key.
pub fn dict_get(module: &Module, dict: ExprId, key: &str) -> Option<ExprId> {
    match &module.expr(dict).kind {
        ExprKind::Dict(entries) => entries
            .iter()
            .rev()
            .find(|e| matches!(&e.key, DictKey::Name(k) if k == key))
            .map(|e| e.value),
        _ => None,
    }
}

/// Calls `visit` on `expr` and every expression below it, stopping at
/// nested functions and classes (their bodies belong to other functions).
pub fn walk_expr(module: &Module, expr: ExprId, visit: &mut impl FnMut(ExprId)) {
    let mut stack = vec![expr];
    while let Some(e) = stack.pop() {
        visit(e);
        children(module, e, &mut |c| stack.push(c));
    }
}

/// The direct sub-expressions of `expr`, in source order.
pub fn children(module: &Module, expr: ExprId, out: &mut impl FnMut(ExprId)) {
    match &module.expr(expr).kind {
        ExprKind::Attr { obj, .. } => out(*obj),
        ExprKind::Subscript { obj, index } => {
            out(*obj);
            out(*index);
        }
        ExprKind::Slice(parts) => parts.iter().flatten().for_each(|p| out(*p)),
        ExprKind::Call(c) => {
            out(c.callee);
            c.args.iter().for_each(|a| out(*a));
            c.keywords.iter().for_each(|(_, v)| out(*v));
        }
        ExprKind::Template(parts) => parts.iter().for_each(|p| {
            if let TemplatePart::Expr(e) = p {
                out(*e)
            }
        }),
        ExprKind::Dict(entries) => entries.iter().for_each(|e| {
            if let DictKey::Computed(k) = &e.key {
                out(*k)
            }
            out(e.value)
        }),
        ExprKind::List(items)
        | ExprKind::Tuple(items)
        | ExprKind::Set(items)
        | ExprKind::Comprehension(items)
        | ExprKind::Unknown(items) => items.iter().for_each(|i| out(*i)),
        ExprKind::Logic { left, right, .. }
        | ExprKind::Compare { left, right, .. }
        | ExprKind::Binary { left, right, .. } => {
            out(*left);
            out(*right);
        }
        ExprKind::Ternary {
            cond,
            then,
            otherwise,
        } => {
            out(*cond);
            out(*then);
            out(*otherwise);
        }
        ExprKind::Unary { operand, .. } => out(*operand),
        ExprKind::Await(e) | ExprKind::Spread(e) => out(*e),
        ExprKind::Yield(e) => e.iter().for_each(|e| out(*e)),
        ExprKind::AssignExpr { target, value } => {
            out(*target);
            out(*value);
        }
        ExprKind::Name(_)
        | ExprKind::This
        | ExprKind::Super
        | ExprKind::Str(_)
        | ExprKind::Num(_)
        | ExprKind::Bool(_)
        | ExprKind::Null
        | ExprKind::Function(_)
        | ExprKind::Class(_) => {}
    }
}

/// Calls `visit` on every statement of `body` and of the blocks nested in
/// it (if/loop/try/with bodies), in source order, not entering nested
/// functions or classes.
pub fn walk_stmts(module: &Module, body: &[StmtId], visit: &mut impl FnMut(StmtId)) {
    for &s in body {
        visit(s);
        child_blocks(module, s, &mut |block, _| walk_stmts(module, block, visit));
    }
}

/// The blocks a statement holds directly, in source order, each with
/// whether it is a branch: an `if`/`else` or `except`/`catch` body runs
/// only on some paths; a loop, `try`, `else`/`finally` or `with` body runs
/// on the statement's own path.
pub fn child_blocks(module: &Module, stmt: StmtId, visit: &mut impl FnMut(&[StmtId], bool)) {
    match &module.stmt(stmt).kind {
        StmtKind::If {
            then, otherwise, ..
        } => {
            visit(then, true);
            visit(otherwise, true);
        }
        StmtKind::Loop {
            body, otherwise, ..
        } => {
            visit(body, false);
            visit(otherwise, false);
        }
        StmtKind::Try {
            body,
            handlers,
            otherwise,
            finally,
        } => {
            visit(body, false);
            for h in handlers {
                visit(&h.body, true);
            }
            visit(otherwise, false);
            visit(finally, false);
        }
        StmtKind::With { body, .. } => visit(body, false),
        StmtKind::Other(_, stmts) => visit(stmts, false),
        _ => {}
    }
}

/// Calls `visit` on every expression of function `f`'s own body (not of
/// nested functions or classes).
pub fn function_exprs(module: &Module, f: FuncId, visit: &mut impl FnMut(ExprId)) {
    let mut stmts = Vec::new();
    walk_stmts(module, &module.func(f).body, &mut |s| stmts.push(s));
    for s in stmts {
        stmt_exprs(module, s, &mut |e| walk_expr(module, e, visit));
    }
}

/// The expressions a statement holds directly (not those of nested blocks).
pub fn stmt_exprs(module: &Module, stmt: StmtId, out: &mut impl FnMut(ExprId)) {
    match &module.stmt(stmt).kind {
        StmtKind::Expr(e) => out(*e),
        StmtKind::Assign { target, value, .. } => {
            out(*target);
            out(*value);
        }
        StmtKind::Return(e) | StmtKind::Raise(e) => e.iter().for_each(|e| out(*e)),
        StmtKind::If { cond, .. } => out(*cond),
        StmtKind::Loop { target, iter, .. } => {
            target.iter().for_each(|e| out(*e));
            iter.iter().for_each(|e| out(*e));
        }
        StmtKind::Try { handlers, .. } => {
            handlers.iter().flat_map(|h| &h.types).for_each(|e| out(*e))
        }
        StmtKind::With { items, .. } => items.iter().for_each(|(c, t)| {
            out(*c);
            t.iter().for_each(|t| out(*t));
        }),
        StmtKind::Delete(items) | StmtKind::Other(items, _) => items.iter().for_each(|e| out(*e)),
        StmtKind::Global(_)
        | StmtKind::FunctionDef(_)
        | StmtKind::ClassDef(_)
        | StmtKind::Import(_)
        | StmtKind::Jump => {}
    }
}

/// A compact, stable text form of a module, for snapshot tests of the
/// lowering and for `RATECHECK_DEBUG_IR`.
pub fn dump(module: &Module) -> String {
    let mut out = String::new();
    for imp in &module.imports {
        out.push_str(&format!(
            "import {} = {}{}\n",
            imp.local,
            imp.module,
            imp.name
                .as_deref()
                .map(|n| format!(":{n}"))
                .unwrap_or_default()
        ));
    }
    for ex in &module.exports {
        let v = match &ex.value {
            ExportValue::Local(l) => l.clone(),
            ExportValue::Expr(e) => dump_expr(module, *e),
            ExportValue::ReExport { module: m, member } => {
                format!("from {m}:{}", member.as_deref().unwrap_or("*"))
            }
        };
        out.push_str(&format!("export {} = {v}\n", ex.name));
    }
    for (i, c) in module.classes.iter().enumerate() {
        let bases: Vec<String> = c.bases.iter().map(|b| dump_expr(module, *b)).collect();
        out.push_str(&format!(
            "class#{i} {}({})\n",
            c.name.as_deref().unwrap_or("_"),
            bases.join(", ")
        ));
        for d in &c.decorators {
            out.push_str(&format!("  @{}\n", dump_expr(module, *d)));
        }
        dump_block(module, &c.body, 1, &mut out);
    }
    for (i, f) in module.functions.iter().enumerate() {
        let params: Vec<String> = f
            .params
            .iter()
            .map(|p| {
                let mut s = p.name.clone();
                if p.rest {
                    s.insert(0, '*');
                }
                if let Some(a) = p.annotation {
                    s.push_str(&format!(": {}", dump_expr(module, a)));
                }
                if let Some(d) = p.default {
                    s.push_str(&format!(" = {}", dump_expr(module, d)));
                }
                for (local, prop) in &p.destructured {
                    s.push_str(&format!(" {{{prop}->{local}}}"));
                }
                s
            })
            .collect();
        out.push_str(&format!(
            "fn#{i} {}{}({}){}{}\n",
            if f.is_async { "async " } else { "" },
            f.name.as_deref().unwrap_or("_"),
            params.join(", "),
            f.parent
                .map(|p| format!(" in fn#{}", p.0))
                .unwrap_or_default(),
            f.class
                .map(|c| format!(" of class#{}", c.0))
                .unwrap_or_default(),
        ));
        for d in &f.decorators {
            out.push_str(&format!("  @{}\n", dump_expr(module, *d)));
        }
        dump_block(module, &f.body, 1, &mut out);
    }
    out
}

fn dump_block(module: &Module, body: &[StmtId], depth: usize, out: &mut String) {
    let pad = "  ".repeat(depth);
    let e = |x: &ExprId| dump_expr(module, *x);
    for &s in body {
        match &module.stmt(s).kind {
            StmtKind::Expr(x) => out.push_str(&format!("{pad}{}\n", e(x))),
            StmtKind::Assign {
                target,
                value,
                op,
                declares,
            } => out.push_str(&format!(
                "{pad}{}{} {}= {}\n",
                if *declares { "let " } else { "" },
                e(target),
                op.map(|o| format!("{o:?}")).unwrap_or_default(),
                e(value)
            )),
            StmtKind::Return(x) => out.push_str(&format!(
                "{pad}return {}\n",
                x.as_ref().map(e).unwrap_or_default()
            )),
            StmtKind::Raise(x) => out.push_str(&format!(
                "{pad}raise {}\n",
                x.as_ref().map(e).unwrap_or_default()
            )),
            StmtKind::If {
                cond,
                then,
                otherwise,
            } => {
                out.push_str(&format!("{pad}if {}:\n", e(cond)));
                dump_block(module, then, depth + 1, out);
                if !otherwise.is_empty() {
                    out.push_str(&format!("{pad}else:\n"));
                    dump_block(module, otherwise, depth + 1, out);
                }
            }
            StmtKind::Loop {
                target,
                iter,
                body,
                otherwise,
                is_while,
            } => {
                out.push_str(&format!(
                    "{pad}{} {}{}:\n",
                    if *is_while { "while" } else { "for" },
                    target
                        .as_ref()
                        .map(|t| format!("{} in ", e(t)))
                        .unwrap_or_default(),
                    iter.as_ref().map(e).unwrap_or_default()
                ));
                dump_block(module, body, depth + 1, out);
                if !otherwise.is_empty() {
                    out.push_str(&format!("{pad}else:\n"));
                    dump_block(module, otherwise, depth + 1, out);
                }
            }
            StmtKind::Try {
                body,
                handlers,
                otherwise,
                finally,
            } => {
                out.push_str(&format!("{pad}try:\n"));
                dump_block(module, body, depth + 1, out);
                for h in handlers {
                    let types: Vec<String> = h.types.iter().map(e).collect();
                    out.push_str(&format!(
                        "{pad}except {}{}:\n",
                        types.join(", "),
                        h.name
                            .as_deref()
                            .map(|n| format!(" as {n}"))
                            .unwrap_or_default()
                    ));
                    dump_block(module, &h.body, depth + 1, out);
                }
                if !otherwise.is_empty() {
                    out.push_str(&format!("{pad}else:\n"));
                    dump_block(module, otherwise, depth + 1, out);
                }
                if !finally.is_empty() {
                    out.push_str(&format!("{pad}finally:\n"));
                    dump_block(module, finally, depth + 1, out);
                }
            }
            StmtKind::With {
                items,
                body,
                is_async,
            } => {
                let items: Vec<String> = items
                    .iter()
                    .map(|(c, t)| {
                        format!(
                            "{}{}",
                            e(c),
                            t.as_ref()
                                .map(|t| format!(" as {}", e(t)))
                                .unwrap_or_default()
                        )
                    })
                    .collect();
                out.push_str(&format!(
                    "{pad}{}with {}:\n",
                    if *is_async { "async " } else { "" },
                    items.join(", ")
                ));
                dump_block(module, body, depth + 1, out);
            }
            StmtKind::Delete(items) => {
                let items: Vec<String> = items.iter().map(e).collect();
                out.push_str(&format!("{pad}del {}\n", items.join(", ")));
            }
            StmtKind::Global(names) => out.push_str(&format!("{pad}global {}\n", names.join(", "))),
            StmtKind::FunctionDef(f) => out.push_str(&format!("{pad}def fn#{}\n", f.0)),
            StmtKind::ClassDef(c) => out.push_str(&format!("{pad}class class#{}\n", c.0)),
            StmtKind::Import(r) => out.push_str(&format!("{pad}import {r:?}\n")),
            StmtKind::Jump => out.push_str(&format!("{pad}jump\n")),
            StmtKind::Other(exprs, stmts) => {
                let items: Vec<String> = exprs.iter().map(e).collect();
                out.push_str(&format!("{pad}other {}:\n", items.join(", ")));
                dump_block(module, stmts, depth + 1, out);
            }
        }
    }
}

/// One expression as compact text (not source syntax: a stable test form).
pub fn dump_expr(module: &Module, id: ExprId) -> String {
    let e = |x: &ExprId| dump_expr(module, *x);
    let list = |xs: &[ExprId]| xs.iter().map(e).collect::<Vec<_>>().join(", ");
    match &module.expr(id).kind {
        ExprKind::Name(n) => n.clone(),
        ExprKind::This => "this".into(),
        ExprKind::Super => "super".into(),
        ExprKind::Attr { obj, name } => format!("{}.{name}", e(obj)),
        ExprKind::Subscript { obj, index } => format!("{}[{}]", e(obj), e(index)),
        ExprKind::Slice(parts) => parts
            .iter()
            .map(|p| p.as_ref().map(e).unwrap_or_default())
            .collect::<Vec<_>>()
            .join(":"),
        ExprKind::Call(c) => {
            let mut args: Vec<String> = c.args.iter().map(e).collect();
            args.extend(c.keywords.iter().map(|(k, v)| format!("{k}={}", e(v))));
            format!(
                "{}{}({})",
                if c.is_new { "new " } else { "" },
                e(&c.callee),
                args.join(", ")
            )
        }
        ExprKind::Str(s) => format!("{s:?}"),
        ExprKind::Num(n) => format!("{n}"),
        ExprKind::Bool(b) => format!("{b}"),
        ExprKind::Null => "null".into(),
        ExprKind::Template(parts) => {
            let inner: String = parts
                .iter()
                .map(|p| match p {
                    TemplatePart::Str(s) => s.clone(),
                    TemplatePart::Expr(x) => format!("{{{}}}", e(x)),
                })
                .collect();
            format!("`{inner}`")
        }
        ExprKind::Dict(entries) => {
            let items: Vec<String> = entries
                .iter()
                .map(|en| match &en.key {
                    DictKey::Name(k) => format!("{k}: {}", e(&en.value)),
                    DictKey::Computed(k) => format!("[{}]: {}", e(k), e(&en.value)),
                    DictKey::Spread => format!("...{}", e(&en.value)),
                })
                .collect();
            format!("{{{}}}", items.join(", "))
        }
        ExprKind::List(xs) => format!("[{}]", list(xs)),
        ExprKind::Tuple(xs) => format!("({})", list(xs)),
        ExprKind::Set(xs) => format!("set({})", list(xs)),
        ExprKind::Logic { op, left, right } => format!("({} {op:?} {})", e(left), e(right)),
        ExprKind::Ternary {
            cond,
            then,
            otherwise,
        } => format!("({} ? {} : {})", e(cond), e(then), e(otherwise)),
        ExprKind::Compare { op, left, right } => format!("({} {op:?} {})", e(left), e(right)),
        ExprKind::Binary { op, left, right } => format!("({} {op:?} {})", e(left), e(right)),
        ExprKind::Unary { op, operand } => format!("{op:?}({})", e(operand)),
        ExprKind::Function(f) => format!("fn#{}", f.0),
        ExprKind::Class(c) => format!("class#{}", c.0),
        ExprKind::Await(x) => format!("await {}", e(x)),
        ExprKind::Yield(x) => format!("yield {}", x.as_ref().map(e).unwrap_or_default()),
        ExprKind::AssignExpr { target, value } => format!("({} := {})", e(target), e(value)),
        ExprKind::Spread(x) => format!("...{}", e(x)),
        ExprKind::Comprehension(xs) => format!("comp({})", list(xs)),
        ExprKind::Unknown(xs) => format!("?({})", list(xs)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    /// The innermost function by a scan of every function's span.
    fn innermost_by_scan(m: &Module, offset: usize) -> FuncId {
        let mut best = (Module::TOP, usize::MAX);
        for (i, f) in m.functions.iter().enumerate().skip(1) {
            if f.span.contains(&offset) && f.span.len() < best.1 {
                best = (FuncId(i as u32), f.span.len());
            }
        }
        best.0
    }

    #[test]
    fn function_at_finds_the_innermost_function_at_every_offset() {
        let python = "import functools\n\n@functools.lru_cache(key=lambda r: r.ip)\ndef outer(a):\n    def inner(b):\n        return [lambda c: c + b for _ in a]\n    x = 1\n    return inner\n\nclass K:\n    def m(self):\n        return lambda: self\n\ny = lambda: 2\n";
        let script = "const a = () => { function b() { return (c) => c; } return b; };\nclass K { m() { return function () { return 1; }; } }\nexport default async function h(req) { const f = x => x ? y => y : null; }\n";
        for (lang, path, src) in [
            (Lang::Python, "t.py", python),
            (Lang::TypeScript, "t.ts", script),
        ] {
            let m = crate::lower::lower_text(lang, Path::new(path), src).unwrap();
            assert!(
                m.functions.len() > 5,
                "{path}: {} functions",
                m.functions.len()
            );
            for offset in 0..=src.len() {
                assert_eq!(
                    m.function_at(offset),
                    innermost_by_scan(&m, offset),
                    "{path} at byte {offset}"
                );
            }
        }
    }
}
