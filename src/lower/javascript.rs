//! Lowering of the JavaScript grammar family (JavaScript, TypeScript, TSX)
//! to the IR (see `crate::ir`, whose doc comments are the contract).
//!
//! One walk over the tree: every node is visited once (by the statement,
//! expression, pattern or type lowering that owns it) and nesting deeper
//! than `MAX_DEPTH` is cut off (`Module::truncated`). Node kinds are
//! matched by id through a per-grammar table (`Grammar`), built once.
//!
//! Choices beyond the IR's contract:
//! - `n++` / `n--` as a statement is `Assign { op: Add/Sub, value: 1 }`
//!   (inside an expression, `Unary Other`).
//! - `for (k in o)` and `for (x of xs)` are both `Loop { target, iter }`;
//!   a C-style `for` is a `while` loop (`is_while`); `do … while` too.
//! - `switch` is `Other([discriminant, case values…], [case statements…])`.
//! - Bare blocks and labels are transparent; `namespace` bodies are
//!   `Other([], body)` and their `export`s are not the module's.
//! - Class bases are the `extends` expressions, then the `implements`
//!   types. A class field holding a function (`handle = async () => …`)
//!   makes that function a method of the class.
//! - A destructuring parameter is named `{}` / `[]`; nested properties in
//!   `Param::destructured` are dotted (`headers.host`). A pattern default
//!   (`{ max = 100 } = o`) lowers as `o.max ?? 100`; `...rest` gets the
//!   whole value.
//! - `require('m')` assignments add an `Import` but no `Stmt::Import`
//!   (the `Assign` stays). `export default <expr>` also keeps the
//!   expression as a statement of the module code.
//! - Not lowered: type-only declarations, `declare`, overload signatures,
//!   enums; dynamic `import('m')` is a call of `Name("import")`, not an
//!   `Import`; union and array types give no annotation.

use super::MAX_DEPTH;
use crate::ir::*;
use std::sync::OnceLock;
use tree_sitter::{Language, Node, Tree, TreeCursor};

// ---------------------------------------------------------------------------
// Node kinds, by id, per grammar
// ---------------------------------------------------------------------------

/// The node kinds (and the few anonymous tokens) the lowering tells apart.
/// Everything else is `Other`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum K {
    Other,
    Error,
    // Statements and declarations.
    Program,
    ExpressionStatement,
    LexicalDeclaration,
    VariableDeclaration,
    UsingDeclaration,
    VariableDeclarator,
    FunctionDeclaration,
    GeneratorFunctionDeclaration,
    ClassDeclaration,
    AbstractClassDeclaration,
    ReturnStatement,
    IfStatement,
    ForStatement,
    ForInStatement,
    WhileStatement,
    DoStatement,
    TryStatement,
    ThrowStatement,
    BreakStatement,
    ContinueStatement,
    EmptyStatement,
    DebuggerStatement,
    StatementBlock,
    LabeledStatement,
    SwitchStatement,
    WithStatement,
    ImportStatement,
    ImportClause,
    NamedImports,
    ImportSpecifier,
    NamespaceImport,
    ImportRequireClause,
    ExportStatement,
    ExportClause,
    ExportSpecifier,
    NamespaceExport,
    HashBangLine,
    // TypeScript declarations without runtime code the rules need.
    InterfaceDeclaration,
    TypeAliasDeclaration,
    EnumDeclaration,
    AmbientDeclaration,
    FunctionSignature,
    ImportAlias,
    /// `namespace X { … }` / `module X { … }`: real code, kept.
    InternalModule,
    TsModule,
    // Expressions.
    Identifier,
    ShorthandPropertyIdentifier,
    PropertyIdentifier,
    PrivatePropertyIdentifier,
    This,
    Super,
    True,
    False,
    Null,
    Undefined,
    Number,
    String,
    StringFragment,
    EscapeSequence,
    TemplateString,
    TemplateSubstitution,
    MemberExpression,
    SubscriptExpression,
    CallExpression,
    NewExpression,
    Arguments,
    Array,
    Object,
    Pair,
    SpreadElement,
    MethodDefinition,
    ArrowFunction,
    FunctionExpression,
    GeneratorFunction,
    Class,
    ClassHeritage,
    ExtendsClause,
    ImplementsClause,
    PublicFieldDefinition,
    FieldDefinition,
    ClassStaticBlock,
    Decorator,
    AssignmentExpression,
    AugmentedAssignmentExpression,
    BinaryExpression,
    UnaryExpression,
    UpdateExpression,
    TernaryExpression,
    AwaitExpression,
    YieldExpression,
    ParenthesizedExpression,
    SequenceExpression,
    AsExpression,
    SatisfiesExpression,
    NonNullExpression,
    TypeAssertion,
    InstantiationExpression,
    ComputedPropertyName,
    Import,
    Regex,
    MetaProperty,
    JsxElement,
    JsxSelfClosingElement,
    JsxOpeningElement,
    JsxAttribute,
    JsxExpression,
    // Patterns.
    ObjectPattern,
    ArrayPattern,
    PairPattern,
    ShorthandPropertyIdentifierPattern,
    ObjectAssignmentPattern,
    AssignmentPattern,
    RestPattern,
    // Parameters.
    RequiredParameter,
    OptionalParameter,
    AccessibilityModifier,
    OverrideModifier,
    // Types.
    TypeAnnotation,
    TypeArguments,
    TypeIdentifier,
    NestedTypeIdentifier,
    NestedIdentifier,
    GenericType,
    PredefinedType,
    // Anonymous tokens.
    Async,
    Static,
    Star,
    Readonly,
    Comma,
    Default,
    AndAnd,
    OrOr,
    Nullish,
    EqEq,
    EqEqEq,
    NotEq,
    NotEqEq,
    Lt,
    LtE,
    Gt,
    GtE,
    In,
    InstanceOf,
    Plus,
    Minus,
    Slash,
    Percent,
    StarStar,
    Bang,
    Tilde,
    TypeOf,
    Void,
    Delete,
    PlusPlus,
    MinusMinus,
    PlusEq,
    MinusEq,
    StarEq,
    SlashEq,
    PercentEq,
    StarStarEq,
    NullishEq,
    OrOrEq,
    AndAndEq,
}

const NAMED: &[(K, &str)] = &[
    (K::Program, "program"),
    (K::ExpressionStatement, "expression_statement"),
    (K::LexicalDeclaration, "lexical_declaration"),
    (K::VariableDeclaration, "variable_declaration"),
    (K::UsingDeclaration, "using_declaration"),
    (K::VariableDeclarator, "variable_declarator"),
    (K::FunctionDeclaration, "function_declaration"),
    (
        K::GeneratorFunctionDeclaration,
        "generator_function_declaration",
    ),
    (K::ClassDeclaration, "class_declaration"),
    (K::AbstractClassDeclaration, "abstract_class_declaration"),
    (K::ReturnStatement, "return_statement"),
    (K::IfStatement, "if_statement"),
    (K::ForStatement, "for_statement"),
    (K::ForInStatement, "for_in_statement"),
    (K::WhileStatement, "while_statement"),
    (K::DoStatement, "do_statement"),
    (K::TryStatement, "try_statement"),
    (K::ThrowStatement, "throw_statement"),
    (K::BreakStatement, "break_statement"),
    (K::ContinueStatement, "continue_statement"),
    (K::EmptyStatement, "empty_statement"),
    (K::DebuggerStatement, "debugger_statement"),
    (K::StatementBlock, "statement_block"),
    (K::LabeledStatement, "labeled_statement"),
    (K::SwitchStatement, "switch_statement"),
    (K::WithStatement, "with_statement"),
    (K::ImportStatement, "import_statement"),
    (K::ImportClause, "import_clause"),
    (K::NamedImports, "named_imports"),
    (K::ImportSpecifier, "import_specifier"),
    (K::NamespaceImport, "namespace_import"),
    (K::ImportRequireClause, "import_require_clause"),
    (K::ExportStatement, "export_statement"),
    (K::ExportClause, "export_clause"),
    (K::ExportSpecifier, "export_specifier"),
    (K::NamespaceExport, "namespace_export"),
    (K::HashBangLine, "hash_bang_line"),
    (K::InterfaceDeclaration, "interface_declaration"),
    (K::TypeAliasDeclaration, "type_alias_declaration"),
    (K::EnumDeclaration, "enum_declaration"),
    (K::AmbientDeclaration, "ambient_declaration"),
    (K::FunctionSignature, "function_signature"),
    (K::ImportAlias, "import_alias"),
    (K::InternalModule, "internal_module"),
    (K::TsModule, "module"),
    (K::Identifier, "identifier"),
    (
        K::ShorthandPropertyIdentifier,
        "shorthand_property_identifier",
    ),
    (K::PropertyIdentifier, "property_identifier"),
    (K::PrivatePropertyIdentifier, "private_property_identifier"),
    (K::This, "this"),
    (K::Super, "super"),
    (K::True, "true"),
    (K::False, "false"),
    (K::Null, "null"),
    (K::Undefined, "undefined"),
    (K::Number, "number"),
    (K::String, "string"),
    (K::StringFragment, "string_fragment"),
    (K::EscapeSequence, "escape_sequence"),
    (K::TemplateString, "template_string"),
    (K::TemplateSubstitution, "template_substitution"),
    (K::MemberExpression, "member_expression"),
    (K::SubscriptExpression, "subscript_expression"),
    (K::CallExpression, "call_expression"),
    (K::NewExpression, "new_expression"),
    (K::Arguments, "arguments"),
    (K::Array, "array"),
    (K::Object, "object"),
    (K::Pair, "pair"),
    (K::SpreadElement, "spread_element"),
    (K::MethodDefinition, "method_definition"),
    (K::ArrowFunction, "arrow_function"),
    (K::FunctionExpression, "function_expression"),
    (K::GeneratorFunction, "generator_function"),
    (K::Class, "class"),
    (K::ClassHeritage, "class_heritage"),
    (K::ExtendsClause, "extends_clause"),
    (K::ImplementsClause, "implements_clause"),
    (K::PublicFieldDefinition, "public_field_definition"),
    (K::FieldDefinition, "field_definition"),
    (K::ClassStaticBlock, "class_static_block"),
    (K::Decorator, "decorator"),
    (K::AssignmentExpression, "assignment_expression"),
    (
        K::AugmentedAssignmentExpression,
        "augmented_assignment_expression",
    ),
    (K::BinaryExpression, "binary_expression"),
    (K::UnaryExpression, "unary_expression"),
    (K::UpdateExpression, "update_expression"),
    (K::TernaryExpression, "ternary_expression"),
    (K::AwaitExpression, "await_expression"),
    (K::YieldExpression, "yield_expression"),
    (K::ParenthesizedExpression, "parenthesized_expression"),
    (K::SequenceExpression, "sequence_expression"),
    (K::AsExpression, "as_expression"),
    (K::SatisfiesExpression, "satisfies_expression"),
    (K::NonNullExpression, "non_null_expression"),
    (K::TypeAssertion, "type_assertion"),
    (K::InstantiationExpression, "instantiation_expression"),
    (K::ComputedPropertyName, "computed_property_name"),
    (K::Import, "import"),
    (K::Regex, "regex"),
    (K::MetaProperty, "meta_property"),
    (K::JsxElement, "jsx_element"),
    (K::JsxSelfClosingElement, "jsx_self_closing_element"),
    (K::JsxOpeningElement, "jsx_opening_element"),
    (K::JsxAttribute, "jsx_attribute"),
    (K::JsxExpression, "jsx_expression"),
    (K::ObjectPattern, "object_pattern"),
    (K::ArrayPattern, "array_pattern"),
    (K::PairPattern, "pair_pattern"),
    (
        K::ShorthandPropertyIdentifierPattern,
        "shorthand_property_identifier_pattern",
    ),
    (K::ObjectAssignmentPattern, "object_assignment_pattern"),
    (K::AssignmentPattern, "assignment_pattern"),
    (K::RestPattern, "rest_pattern"),
    (K::RequiredParameter, "required_parameter"),
    (K::OptionalParameter, "optional_parameter"),
    (K::AccessibilityModifier, "accessibility_modifier"),
    (K::OverrideModifier, "override_modifier"),
    (K::TypeAnnotation, "type_annotation"),
    (K::TypeArguments, "type_arguments"),
    (K::TypeIdentifier, "type_identifier"),
    (K::NestedTypeIdentifier, "nested_type_identifier"),
    (K::NestedIdentifier, "nested_identifier"),
    (K::GenericType, "generic_type"),
    (K::PredefinedType, "predefined_type"),
];

const TOKENS: &[(K, &str)] = &[
    (K::Async, "async"),
    (K::Static, "static"),
    (K::Star, "*"),
    (K::Readonly, "readonly"),
    (K::Comma, ","),
    (K::Default, "default"),
    (K::AndAnd, "&&"),
    (K::OrOr, "||"),
    (K::Nullish, "??"),
    (K::EqEq, "=="),
    (K::EqEqEq, "==="),
    (K::NotEq, "!="),
    (K::NotEqEq, "!=="),
    (K::Lt, "<"),
    (K::LtE, "<="),
    (K::Gt, ">"),
    (K::GtE, ">="),
    (K::In, "in"),
    (K::InstanceOf, "instanceof"),
    (K::Plus, "+"),
    (K::Minus, "-"),
    (K::Slash, "/"),
    (K::Percent, "%"),
    (K::StarStar, "**"),
    (K::Bang, "!"),
    (K::Tilde, "~"),
    (K::TypeOf, "typeof"),
    (K::Void, "void"),
    (K::Delete, "delete"),
    (K::PlusPlus, "++"),
    (K::MinusMinus, "--"),
    (K::PlusEq, "+="),
    (K::MinusEq, "-="),
    (K::StarEq, "*="),
    (K::SlashEq, "/="),
    (K::PercentEq, "%="),
    (K::StarStarEq, "**="),
    (K::NullishEq, "??="),
    (K::OrOrEq, "||="),
    (K::AndAndEq, "&&="),
];

/// Tree-sitter's built-in ERROR symbol, the same in every grammar.
const ERROR_KIND_ID: u16 = u16::MAX;

/// Field ids of one grammar (0 where the grammar lacks the field:
/// `child_by_field_id(0)` finds nothing).
#[derive(Default)]
struct Fields {
    alias: u16,
    alternative: u16,
    argument: u16,
    arguments: u16,
    body: u16,
    condition: u16,
    consequence: u16,
    constructor: u16,
    declaration: u16,
    finalizer: u16,
    function: u16,
    handler: u16,
    increment: u16,
    index: u16,
    initializer: u16,
    key: u16,
    left: u16,
    module: u16,
    name: u16,
    object: u16,
    operator: u16,
    parameter: u16,
    parameters: u16,
    pattern: u16,
    property: u16,
    right: u16,
    source: u16,
    type_: u16,
    value: u16,
}

impl Fields {
    fn new(lang: &Language) -> Fields {
        let id = |name: &str| lang.field_id_for_name(name).map_or(0, |f| f.get());
        Fields {
            alias: id("alias"),
            alternative: id("alternative"),
            argument: id("argument"),
            arguments: id("arguments"),
            body: id("body"),
            condition: id("condition"),
            consequence: id("consequence"),
            constructor: id("constructor"),
            declaration: id("declaration"),
            finalizer: id("finalizer"),
            function: id("function"),
            handler: id("handler"),
            increment: id("increment"),
            index: id("index"),
            initializer: id("initializer"),
            key: id("key"),
            left: id("left"),
            module: id("module"),
            name: id("name"),
            object: id("object"),
            operator: id("operator"),
            parameter: id("parameter"),
            parameters: id("parameters"),
            pattern: id("pattern"),
            property: id("property"),
            right: id("right"),
            source: id("source"),
            type_: id("type"),
            value: id("value"),
        }
    }
}

/// Kind and field ids of one grammar.
#[derive(Default)]
struct Grammar {
    /// Indexed by `Node::kind_id()`.
    kinds: Vec<K>,
    f: Fields,
}

impl Grammar {
    fn new(lang: &Language) -> Grammar {
        let mut kinds = vec![K::Other; lang.node_kind_count()];
        let lists = [(NAMED, true), (TOKENS, false)];
        for (list, named) in lists {
            for &(k, name) in list {
                let id = lang.id_for_node_kind(name, named) as usize;
                if id != 0 && id < kinds.len() {
                    kinds[id] = k;
                }
            }
        }
        Grammar {
            kinds,
            f: Fields::new(lang),
        }
    }

    fn kind(&self, node: Node) -> K {
        let id = node.kind_id();
        if id == ERROR_KIND_ID {
            return K::Error;
        }
        self.kinds.get(id as usize).copied().unwrap_or(K::Other)
    }

    /// The grammar tables for `lang`, built once per grammar. Kind ids
    /// differ between the three grammars, which are told apart by the
    /// kinds only they have (types: TypeScript; JSX: JavaScript and TSX).
    fn of(lang: &Language) -> &'static Grammar {
        static JS: OnceLock<Grammar> = OnceLock::new();
        static TS: OnceLock<Grammar> = OnceLock::new();
        static TSX: OnceLock<Grammar> = OnceLock::new();
        static NONE: OnceLock<Grammar> = OnceLock::new();
        let typed = lang.id_for_node_kind("type_identifier", true) != 0;
        let jsx = lang.id_for_node_kind("jsx_element", true) != 0;
        let cell = match (typed, jsx) {
            (false, true) => &JS,
            (true, false) => &TS,
            (true, true) => &TSX,
            // Not this family: nothing is recognised (everything Unknown).
            (false, false) => return NONE.get_or_init(Grammar::default),
        };
        cell.get_or_init(|| Grammar::new(lang))
    }
}

/// The named children of a node, comments left out, through one
/// cursor (`Node::child(i)` is linear in `i`).
struct Kids<'t> {
    cursor: TreeCursor<'t>,
    started: bool,
    done: bool,
}

impl<'t> Iterator for Kids<'t> {
    type Item = Node<'t>;
    fn next(&mut self) -> Option<Node<'t>> {
        while !self.done {
            let moved = if self.started {
                self.cursor.goto_next_sibling()
            } else {
                self.started = true;
                self.cursor.goto_first_child()
            };
            if !moved {
                self.done = true;
                break;
            }
            // Comments are extras; so is an ERROR node in some recoveries,
            // and what parsed inside it is kept.
            let node = self.cursor.node();
            if node.is_named() && (!node.is_extra() || node.is_error()) {
                return Some(node);
            }
        }
        None
    }
}

fn kids(node: Node<'_>) -> Kids<'_> {
    Kids {
        cursor: node.walk(),
        started: false,
        done: false,
    }
}

/// All children, anonymous tokens included (for modifiers and holes).
fn tokens(node: Node<'_>) -> impl Iterator<Item = Node<'_>> {
    let mut cursor = node.walk();
    let mut started = false;
    std::iter::from_fn(move || {
        let moved = if started {
            cursor.goto_next_sibling()
        } else {
            started = true;
            cursor.goto_first_child()
        };
        moved.then(|| cursor.node())
    })
}

fn span(node: Node) -> Span {
    node.start_byte()..node.end_byte()
}

/// Error and missing nodes, walked only below nodes that contain some.
fn count_syntax_errors(root: Node) -> u32 {
    if !root.has_error() {
        return 0;
    }
    let mut errors = 0;
    let mut cursor = root.walk();
    loop {
        let node = cursor.node();
        if node.is_error() || node.is_missing() {
            errors += 1;
        }
        if node.has_error() && cursor.goto_first_child() {
            continue;
        }
        while !cursor.goto_next_sibling() {
            if !cursor.goto_parent() {
                return errors;
            }
        }
    }
}

// ---------------------------------------------------------------------------
// Entry point
// ---------------------------------------------------------------------------

pub fn lower(text: &str, tree: &Tree) -> Module {
    let root = tree.root_node();
    let mut l = Lowerer {
        text,
        g: Grammar::of(&tree.language()),
        m: Module::default(),
        func: Module::TOP,
        depth: 0,
        name_hint: None,
        in_namespace: 0,
    };
    l.m.syntax_errors = count_syntax_errors(root);
    l.m.functions.push(Function::module_code(0..text.len()));
    let body = l.block(root);
    l.m.functions[0].body = body;
    l.m
}

struct Lowerer<'a> {
    text: &'a str,
    g: &'static Grammar,
    m: Module,
    /// The function whose body is being lowered.
    func: FuncId,
    /// Nesting of `stmt` / `expr` / pattern / type lowering.
    depth: usize,
    /// The name a function or class expression takes from where it is
    /// written (`const f = () => …`, `{ key: function () {} }`); taken
    /// (and so cleared) by the next expression lowered.
    name_hint: Option<(String, Span)>,
    /// Inside a TS namespace: its `export`s are not the module's.
    in_namespace: u32,
}

/// A statement or expression lowering, chosen by kind (see `stmt_inner`).
type StmtHandler<'a> = for<'t> fn(&mut Lowerer<'a>, Node<'t>, &mut Vec<StmtId>);
type ExprHandler<'a> = for<'t> fn(&mut Lowerer<'a>, Node<'t>) -> ExprId;

/// One name bound by a destructuring pattern, and how its value is reached
/// from the destructured value.
struct Binding {
    target: BindTarget,
    path: Vec<Step>,
    default: Option<ExprId>,
    /// The pattern element (`headers: h`), the span of synthetic values.
    span: Span,
}

enum BindTarget {
    Name(String, Span),
    /// `({ a: this.x } = o)`: a member or subscript target.
    Expr(ExprId),
}

#[derive(Clone)]
enum Step {
    Prop(String),
    Index(usize),
    /// `...rest`: the rest gets (an approximation of) the whole value.
    Rest,
}

impl<'a> Lowerer<'a> {
    // --- small helpers -----------------------------------------------------

    fn kind(&self, node: Node) -> K {
        self.g.kind(node)
    }

    fn text(&self, node: Node) -> &'a str {
        self.text.get(node.byte_range()).unwrap_or("")
    }

    fn field<'t>(&self, node: Node<'t>, field: u16) -> Option<Node<'t>> {
        node.child_by_field_id(field)
    }

    /// The first named child, comments left out.
    fn first_kid<'t>(&self, node: Node<'t>) -> Option<Node<'t>> {
        kids(node).next()
    }

    fn has_token(&self, node: Node, token: K) -> bool {
        tokens(node).any(|t| !t.is_named() && self.kind(t) == token)
    }

    /// Counts one level of nesting; `false` (and the module marked
    /// truncated) beyond `MAX_DEPTH`.
    fn enter(&mut self) -> bool {
        if self.depth >= MAX_DEPTH {
            self.m.truncated = true;
            return false;
        }
        self.depth += 1;
        true
    }

    fn leave(&mut self) {
        self.depth -= 1;
    }

    fn push_expr(&mut self, kind: ExprKind, span: Span) -> ExprId {
        let id = ExprId(self.m.exprs.len() as u32);
        self.m.exprs.push(Expr { kind, span });
        id
    }

    fn push_stmt(&mut self, kind: StmtKind, span: Span, out: &mut Vec<StmtId>) {
        let id = StmtId(self.m.stmts.len() as u32);
        self.m.stmts.push(Stmt { kind, span });
        out.push(id);
    }

    fn name_expr(&mut self, node: Node) -> ExprId {
        let name = self.text(node).to_string();
        self.push_expr(ExprKind::Name(name), span(node))
    }

    // --- statements ----------------------------------------------------------

    /// The statements of a block (or the program).
    fn block(&mut self, node: Node) -> Vec<StmtId> {
        let mut out = Vec::new();
        for kid in kids(node) {
            self.stmt(kid, &mut out);
        }
        out
    }

    /// A statement used as a body (`if (c) x();` or `if (c) { … }`).
    fn body_of(&mut self, node: Option<Node>) -> Vec<StmtId> {
        let mut out = Vec::new();
        if let Some(node) = node {
            self.stmt(node, &mut out);
        }
        out
    }

    fn stmt(&mut self, node: Node, out: &mut Vec<StmtId>) {
        if !self.enter() {
            return;
        }
        self.stmt_inner(node, out);
        self.leave();
    }

    /// Picks the handler, then calls it once: one call site keeps this
    /// frame, which is on every level of recursion, small in debug builds.
    fn stmt_inner(&mut self, node: Node, out: &mut Vec<StmtId>) {
        let handler: StmtHandler<'a> = match self.kind(node) {
            K::ExpressionStatement => Self::expression_stmt,
            K::LexicalDeclaration | K::VariableDeclaration | K::UsingDeclaration => {
                Self::declaration
            }
            K::FunctionDeclaration | K::GeneratorFunctionDeclaration => Self::function_decl,
            K::ClassDeclaration | K::AbstractClassDeclaration => Self::class_decl,
            K::ReturnStatement | K::ThrowStatement => Self::exit_stmt,
            K::IfStatement => Self::if_stmt,
            K::ForStatement => Self::for_stmt,
            K::ForInStatement => Self::for_in_stmt,
            K::WhileStatement | K::DoStatement => Self::while_stmt,
            K::TryStatement => Self::try_stmt,
            K::SwitchStatement => Self::switch_stmt,
            K::WithStatement => Self::with_stmt,
            K::BreakStatement | K::ContinueStatement | K::EmptyStatement | K::DebuggerStatement => {
                Self::jump_stmt
            }
            // Blocks are transparent (their statements join the enclosing
            // list); in an ERROR node, what parsed is lowered.
            K::StatementBlock | K::Error => Self::inline_block,
            K::LabeledStatement => Self::labeled_stmt,
            K::ImportStatement => Self::import_stmt,
            K::ExportStatement => Self::export_stmt,
            // Types, overload signatures, `declare …`, enums: no runtime
            // code the analysis follows.
            K::InterfaceDeclaration
            | K::TypeAliasDeclaration
            | K::EnumDeclaration
            | K::AmbientDeclaration
            | K::FunctionSignature
            | K::ImportAlias
            | K::HashBangLine => return,
            K::InternalModule | K::TsModule => Self::namespace,
            _ => Self::expr_stmt,
        };
        handler(self, node, out)
    }

    fn expression_stmt(&mut self, node: Node, out: &mut Vec<StmtId>) {
        if let Some(e) = self.first_kid(node) {
            self.effect(e, span(node), out);
        }
    }

    fn expr_stmt(&mut self, node: Node, out: &mut Vec<StmtId>) {
        let e = self.expr(node);
        self.push_stmt(StmtKind::Expr(e), span(node), out);
    }

    fn function_decl(&mut self, node: Node, out: &mut Vec<StmtId>) {
        let id = self.function(node, FnHead::default());
        self.push_stmt(StmtKind::FunctionDef(id), span(node), out);
    }

    fn class_decl(&mut self, node: Node, out: &mut Vec<StmtId>) {
        let id = self.class(node, Vec::new());
        self.push_stmt(StmtKind::ClassDef(id), span(node), out);
    }

    fn jump_stmt(&mut self, node: Node, out: &mut Vec<StmtId>) {
        self.push_stmt(StmtKind::Jump, span(node), out)
    }

    fn inline_block(&mut self, node: Node, out: &mut Vec<StmtId>) {
        for kid in kids(node) {
            self.stmt(kid, out);
        }
    }

    /// Labels are transparent.
    fn labeled_stmt(&mut self, node: Node, out: &mut Vec<StmtId>) {
        if let Some(body) = self.field(node, self.g.f.body) {
            self.stmt(body, out);
        }
    }

    /// An expression in statement position: assignments become `Assign`
    /// statements, `a, b` one statement each, `n++` an `Assign` with `Add`.
    fn effect(&mut self, node: Node, sp: Span, out: &mut Vec<StmtId>) {
        if !self.enter() {
            return;
        }
        match self.kind(node) {
            // `({ a } = o);` is still a destructuring assignment.
            K::ParenthesizedExpression => {
                if let Some(inner) = self.first_kid(node) {
                    self.effect(inner, sp, out);
                }
            }
            K::SequenceExpression => {
                for kid in kids(node) {
                    self.effect(kid, span(kid), out);
                }
            }
            K::AssignmentExpression => self.assignment(node, sp, out),
            K::AugmentedAssignmentExpression => self.augmented_assignment(node, sp, out),
            K::UpdateExpression => self.update_stmt(node, sp, out),
            K::InternalModule | K::TsModule => self.namespace(node, out),
            _ => {
                let e = self.expr(node);
                self.push_stmt(StmtKind::Expr(e), sp, out);
            }
        }
        self.leave();
    }

    /// `return x` / `throw x`.
    fn exit_stmt(&mut self, node: Node, out: &mut Vec<StmtId>) {
        let value = self.opt_expr(self.first_kid(node));
        let kind = match self.kind(node) {
            K::ThrowStatement => StmtKind::Raise(value),
            _ => StmtKind::Return(value),
        };
        self.push_stmt(kind, span(node), out);
    }

    /// `while` and `do … while` (the body runs first: not modelled).
    fn while_stmt(&mut self, node: Node, out: &mut Vec<StmtId>) {
        let f = &self.g.f;
        let cond = self.opt_expr(self.field(node, f.condition));
        let body = self.body_of(self.field(node, f.body));
        let kind = StmtKind::Loop {
            target: None,
            iter: cond,
            body,
            otherwise: Vec::new(),
            is_while: true,
        };
        self.push_stmt(kind, span(node), out);
    }

    fn with_stmt(&mut self, node: Node, out: &mut Vec<StmtId>) {
        let f = &self.g.f;
        let object = self.opt_expr(self.field(node, f.object));
        let body = self.body_of(self.field(node, f.body));
        let kind = StmtKind::With {
            items: object.map(|o| (o, None)).into_iter().collect(),
            body,
            is_async: false,
        };
        self.push_stmt(kind, span(node), out);
    }

    fn if_stmt(&mut self, node: Node, out: &mut Vec<StmtId>) {
        let f = &self.g.f;
        let cond = match self.field(node, f.condition) {
            Some(c) => self.expr(c),
            None => self.push_expr(ExprKind::Unknown(Vec::new()), span(node)),
        };
        let then = self.body_of(self.field(node, f.consequence));
        // `else if` is an `if_statement` inside the else clause: a nested If.
        let else_body = self
            .field(node, f.alternative)
            .and_then(|a| self.first_kid(a));
        let otherwise = self.body_of(else_body);
        let kind = StmtKind::If {
            cond,
            then,
            otherwise,
        };
        self.push_stmt(kind, span(node), out);
    }

    /// C-style `for`: the initializer goes before the loop, the update at
    /// the end of its body, the condition is the loop's `iter`.
    fn for_stmt(&mut self, node: Node, out: &mut Vec<StmtId>) {
        let f = &self.g.f;
        if let Some(init) = self.field(node, f.initializer) {
            match self.kind(init) {
                K::LexicalDeclaration | K::VariableDeclaration => self.declaration(init, out),
                K::EmptyStatement => {}
                _ => self.effect(init, span(init), out),
            }
        }
        let cond = self
            .field(node, f.condition)
            .filter(|c| c.is_named() && self.kind(*c) != K::EmptyStatement)
            .map(|c| self.expr(c));
        let mut body = self.body_of(self.field(node, f.body));
        if let Some(update) = self.field(node, f.increment) {
            self.effect(update, span(update), &mut body);
        }
        let kind = StmtKind::Loop {
            target: None,
            iter: cond,
            body,
            otherwise: Vec::new(),
            is_while: true,
        };
        self.push_stmt(kind, span(node), out);
    }

    /// `for (const x of xs)` / `for (k in o)` (both iterate `iter`, like a
    /// Python `for`; a destructuring target is a `Tuple` / `Dict`).
    fn for_in_stmt(&mut self, node: Node, out: &mut Vec<StmtId>) {
        let f = &self.g.f;
        let target = self.opt_pattern_expr(self.field(node, f.left));
        let iter = self.opt_expr(self.field(node, f.right));
        let body = self.body_of(self.field(node, f.body));
        let kind = StmtKind::Loop {
            target,
            iter,
            body,
            otherwise: Vec::new(),
            is_while: false,
        };
        self.push_stmt(kind, span(node), out);
    }

    fn try_stmt(&mut self, node: Node, out: &mut Vec<StmtId>) {
        let f = &self.g.f;
        let body = self.body_of(self.field(node, f.body));
        let mut handlers = Vec::new();
        if let Some(catch) = self.field(node, f.handler) {
            let name = self
                .field(catch, f.parameter)
                .filter(|p| self.kind(*p) == K::Identifier)
                .map(|p| self.text(p).to_string());
            let body = self.body_of(self.field(catch, f.body));
            handlers.push(Handler {
                types: Vec::new(),
                name,
                body,
                span: span(catch),
            });
        }
        let finally = self
            .field(node, f.finalizer)
            .map(|fin| self.body_of(self.field(fin, f.body)))
            .unwrap_or_default();
        let kind = StmtKind::Try {
            body,
            handlers,
            otherwise: Vec::new(),
            finally,
        };
        self.push_stmt(kind, span(node), out);
    }

    /// `switch`: an `Other` holding the discriminant and the case values,
    /// and every case's statements in order.
    fn switch_stmt(&mut self, node: Node, out: &mut Vec<StmtId>) {
        let f = &self.g.f;
        let mut exprs = Vec::new();
        let mut stmts = Vec::new();
        if let Some(value) = self.field(node, f.value) {
            exprs.push(self.expr(value));
        }
        if let Some(body) = self.field(node, f.body) {
            for case in kids(body) {
                let value = self.field(case, f.value);
                if let Some(v) = value {
                    exprs.push(self.expr(v));
                }
                for kid in kids(case).filter(|k| Some(*k) != value) {
                    self.stmt(kid, &mut stmts);
                }
            }
        }
        self.push_stmt(StmtKind::Other(exprs, stmts), span(node), out);
    }

    /// `namespace X { … }`: its code, its exports not the module's.
    fn namespace(&mut self, node: Node, out: &mut Vec<StmtId>) {
        let Some(body) = self.field(node, self.g.f.body) else {
            return;
        };
        self.in_namespace += 1;
        let stmts = self.block(body);
        self.in_namespace -= 1;
        self.push_stmt(StmtKind::Other(Vec::new(), stmts), span(node), out);
    }

    // --- declarations and assignments ----------------------------------------

    /// `const a = 1, { b } = c;`: one `Assign` per bound name, all with the
    /// declaration's span; `let a;` makes no statement.
    fn declaration(&mut self, node: Node, out: &mut Vec<StmtId>) {
        let sp = span(node);
        for declarator in kids(node) {
            if self.kind(declarator) == K::VariableDeclarator {
                self.declarator(declarator, sp.clone(), out);
            }
        }
    }

    fn declarator(&mut self, node: Node, sp: Span, out: &mut Vec<StmtId>) {
        let f = &self.g.f;
        let (Some(name), Some(value)) = (self.field(node, f.name), self.field(node, f.value))
        else {
            return;
        };
        if self.kind(name) == K::Identifier {
            let value = self.named_value(value, name);
            let target = self.name_expr(name);
            self.note_require(self.text(name), value, sp.clone());
            let kind = StmtKind::Assign {
                target,
                value,
                op: None,
                declares: true,
            };
            self.push_stmt(kind, sp, out);
        } else {
            let value = self.expr(value);
            self.destructure(name, value, sp, true, out);
        }
    }

    /// `a = b` in statement position (exports and requires noted).
    fn assignment(&mut self, node: Node, sp: Span, out: &mut Vec<StmtId>) {
        let f = &self.g.f;
        let (Some(left), Some(right)) = (self.field(node, f.left), self.field(node, f.right))
        else {
            let e = self.expr(node);
            return self.push_stmt(StmtKind::Expr(e), sp, out);
        };
        if matches!(self.kind(left), K::ObjectPattern | K::ArrayPattern) {
            let value = self.expr(right);
            return self.destructure(left, value, sp, false, out);
        }
        let name_node = match self.kind(left) {
            K::MemberExpression => self.field(left, f.property),
            _ => Some(left),
        };
        let value = match name_node {
            Some(n) => self.named_value(right, n),
            None => self.expr(right),
        };
        let target = self.pattern_expr(left);
        if let ExprKind::Name(local) = &self.m.expr(target).kind {
            let local = local.clone();
            self.note_require(&local, value, sp.clone());
        }
        self.note_export_assignment(target, value, sp.clone());
        let kind = StmtKind::Assign {
            target,
            value,
            op: None,
            declares: false,
        };
        self.push_stmt(kind, sp, out);
    }

    /// `a += 1`, `a ??= b` (the operator as the `Assign`'s `op`).
    fn augmented_assignment(&mut self, node: Node, sp: Span, out: &mut Vec<StmtId>) {
        let f = &self.g.f;
        let (Some(left), Some(right)) = (self.field(node, f.left), self.field(node, f.right))
        else {
            let e = self.expr(node);
            return self.push_stmt(StmtKind::Expr(e), sp, out);
        };
        let op = self
            .field(node, f.operator)
            .map(|o| assign_op(self.kind(o)))
            .unwrap_or(BinOp::Other);
        let target = self.expr(left);
        let value = self.expr(right);
        let kind = StmtKind::Assign {
            target,
            value,
            op: Some(op),
            declares: false,
        };
        self.push_stmt(kind, sp, out);
    }

    /// `n++` / `--n` as a statement: `n Add= 1` (a counter update).
    fn update_stmt(&mut self, node: Node, sp: Span, out: &mut Vec<StmtId>) {
        let f = &self.g.f;
        let Some(argument) = self.field(node, f.argument) else {
            return;
        };
        let op = match self.field(node, f.operator).map(|o| self.kind(o)) {
            Some(K::MinusMinus) => BinOp::Sub,
            _ => BinOp::Add,
        };
        let target = self.expr(argument);
        let one = self.push_expr(ExprKind::Num(1.0), sp.clone());
        let kind = StmtKind::Assign {
            target,
            value: one,
            op: Some(op),
            declares: false,
        };
        self.push_stmt(kind, sp, out);
    }

    /// One `Assign` per name a pattern binds: `Attr(value, prop)` for
    /// object patterns, `Subscript(value, Num(i))` for array patterns
    /// (`value ?? default` where the pattern has a default).
    fn destructure(
        &mut self,
        pattern: Node,
        value: ExprId,
        sp: Span,
        declares: bool,
        out: &mut Vec<StmtId>,
    ) {
        let mut bindings = Vec::new();
        self.bindings(pattern, &mut Vec::new(), &mut bindings);
        self.note_destructured_require(value, &bindings, sp.clone());
        for b in bindings {
            let mut reached = value;
            for step in &b.path {
                let kind = match step {
                    Step::Prop(p) => ExprKind::Attr {
                        obj: reached,
                        name: p.clone(),
                    },
                    Step::Index(i) => {
                        let index = self.push_expr(ExprKind::Num(*i as f64), b.span.clone());
                        ExprKind::Subscript {
                            obj: reached,
                            index,
                        }
                    }
                    Step::Rest => continue,
                };
                reached = self.push_expr(kind, b.span.clone());
            }
            if let Some(default) = b.default {
                let kind = ExprKind::Logic {
                    op: LogicOp::Nullish,
                    left: reached,
                    right: default,
                };
                reached = self.push_expr(kind, b.span.clone());
            }
            let target = match b.target {
                BindTarget::Name(name, name_span) => {
                    self.push_expr(ExprKind::Name(name), name_span)
                }
                BindTarget::Expr(e) => e,
            };
            let kind = StmtKind::Assign {
                target,
                value: reached,
                op: None,
                declares,
            };
            self.push_stmt(kind, sp.clone(), out);
        }
    }

    /// The names a pattern binds, with the property path to each.
    fn bindings(&mut self, pattern: Node, path: &mut Vec<Step>, out: &mut Vec<Binding>) {
        if !self.enter() {
            return;
        }
        let f = &self.g.f;
        match self.kind(pattern) {
            K::Identifier | K::ShorthandPropertyIdentifierPattern => out.push(Binding {
                target: BindTarget::Name(self.text(pattern).to_string(), span(pattern)),
                path: path.clone(),
                default: None,
                span: span(pattern),
            }),
            K::ObjectPattern => {
                for element in kids(pattern) {
                    self.object_pattern_element(element, path, out);
                }
            }
            K::ArrayPattern => {
                let mut index = 0;
                for t in tokens(pattern) {
                    if self.kind(t) == K::Comma {
                        index += 1;
                    } else if t.is_named() && (!t.is_extra() || t.is_error()) {
                        let step = match self.kind(t) {
                            K::RestPattern => Step::Rest,
                            _ => Step::Index(index),
                        };
                        path.push(step);
                        self.bindings(t, path, out);
                        path.pop();
                    }
                }
            }
            K::AssignmentPattern | K::ObjectAssignmentPattern => {
                let (left, right) = (self.field(pattern, f.left), self.field(pattern, f.right));
                if let Some(left) = left {
                    let first = out.len();
                    self.bindings(left, path, out);
                    let default = self.opt_expr(right);
                    // A default belongs to a single name (`{ max = 100 }`).
                    if out.len() == first + 1 {
                        out[first].default = default;
                        out[first].span = span(pattern);
                    }
                }
            }
            K::RestPattern => {
                if let Some(inner) = self.first_kid(pattern) {
                    self.bindings(inner, path, out);
                }
            }
            _ => {
                // A member or subscript target (`[this.a, o[k]] = …`).
                let target = self.expr(pattern);
                out.push(Binding {
                    target: BindTarget::Expr(target),
                    path: path.clone(),
                    default: None,
                    span: span(pattern),
                });
            }
        }
        self.leave();
    }

    fn object_pattern_element(
        &mut self,
        element: Node,
        path: &mut Vec<Step>,
        out: &mut Vec<Binding>,
    ) {
        let f = &self.g.f;
        let (key, inner) = match self.kind(element) {
            K::ShorthandPropertyIdentifierPattern => (self.text(element).to_string(), element),
            K::ObjectAssignmentPattern => {
                let Some(left) = self.field(element, f.left) else {
                    return;
                };
                (self.text(left).to_string(), element)
            }
            K::PairPattern => {
                let (Some(key), Some(value)) =
                    (self.field(element, f.key), self.field(element, f.value))
                else {
                    return;
                };
                (self.property_name(key), value)
            }
            K::RestPattern => {
                path.push(Step::Rest);
                self.bindings(element, path, out);
                path.pop();
                return;
            }
            _ => return,
        };
        path.push(Step::Prop(key));
        let first = out.len();
        self.bindings(inner, path, out);
        path.pop();
        // The element is where a finding about the binding points.
        if out.len() == first + 1 {
            out[first].span = span(element);
        }
    }

    /// A pattern as an expression (assignment and loop targets): names,
    /// `Tuple` for arrays, `Dict` for objects.
    fn pattern_expr(&mut self, node: Node) -> ExprId {
        if !self.enter() {
            return self.push_expr(ExprKind::Unknown(Vec::new()), span(node));
        }
        let f = &self.g.f;
        let kind = match self.kind(node) {
            K::ShorthandPropertyIdentifierPattern => ExprKind::Name(self.text(node).to_string()),
            K::ArrayPattern => {
                let mut items = Vec::new();
                for kid in kids(node) {
                    items.push(self.pattern_expr(kid));
                }
                ExprKind::Tuple(items)
            }
            K::ObjectPattern => {
                let mut entries = Vec::new();
                for kid in kids(node) {
                    entries.push(self.pattern_entry(kid));
                }
                ExprKind::Dict(entries)
            }
            K::AssignmentPattern | K::ObjectAssignmentPattern => {
                let left = self.field(node, f.left);
                self.leave();
                return match left {
                    Some(l) => self.pattern_expr(l),
                    None => self.push_expr(ExprKind::Unknown(Vec::new()), span(node)),
                };
            }
            K::RestPattern => {
                let inner = self.opt_pattern_expr(self.first_kid(node));
                match inner {
                    Some(i) => ExprKind::Spread(i),
                    None => ExprKind::Unknown(Vec::new()),
                }
            }
            _ => {
                self.leave();
                return self.expr(node);
            }
        };
        self.leave();
        self.push_expr(kind, span(node))
    }

    fn pattern_entry(&mut self, element: Node) -> DictEntry {
        let f = &self.g.f;
        let (key, value) = match self.kind(element) {
            K::PairPattern => {
                let key = self.field(element, f.key).map(|k| self.dict_key(k));
                let value = self.opt_pattern_expr(self.field(element, f.value));
                (key, value)
            }
            K::RestPattern => (Some(DictKey::Spread), Some(self.pattern_expr(element))),
            _ => {
                let value = self.pattern_expr(element);
                let key = match &self.m.expr(value).kind {
                    ExprKind::Name(n) => DictKey::Name(n.clone()),
                    _ => DictKey::Computed(value),
                };
                (Some(key), Some(value))
            }
        };
        let value =
            value.unwrap_or_else(|| self.push_expr(ExprKind::Unknown(Vec::new()), span(element)));
        DictEntry {
            key: key.unwrap_or(DictKey::Spread),
            value,
            span: span(element),
        }
    }

    /// A value assigned to a name: a function or class expression takes
    /// the name (`const limiter = () => …` is the function `limiter`).
    fn named_value(&mut self, value: Node, name: Node) -> ExprId {
        self.name_hint = Some((self.property_name(name), span(name)));
        let id = self.expr(value);
        self.name_hint = None;
        id
    }

    // --- imports, requires, exports ------------------------------------------

    fn import_stmt(&mut self, node: Node, out: &mut Vec<StmtId>) {
        let f = &self.g.f;
        let start = self.m.imports.len();
        let source = self.field(node, f.source).map(|s| self.string_value(s));
        for clause in kids(node) {
            match self.kind(clause) {
                K::ImportClause => {
                    if let Some(module) = &source {
                        self.import_clause(clause, module, span(node));
                    }
                }
                K::ImportRequireClause => {
                    let module = self.field(clause, f.source).map(|s| self.string_value(s));
                    let local = kids(clause).find(|k| self.kind(*k) == K::Identifier);
                    if let (Some(module), Some(local)) = (module, local) {
                        let local = self.text(local).to_string();
                        self.add_import(module, None, local, span(node));
                    }
                }
                _ => {}
            }
        }
        let end = self.m.imports.len();
        if end > start {
            self.push_stmt(StmtKind::Import(start..end), span(node), out);
        }
    }

    fn import_clause(&mut self, clause: Node, module: &str, sp: Span) {
        let f = &self.g.f;
        for part in kids(clause) {
            match self.kind(part) {
                K::Identifier => {
                    let local = self.text(part).to_string();
                    self.add_import(
                        module.to_string(),
                        Some("default".into()),
                        local,
                        sp.clone(),
                    );
                }
                K::NamespaceImport => {
                    if let Some(local) = self.first_kid(part) {
                        let local = self.text(local).to_string();
                        self.add_import(module.to_string(), None, local, sp.clone());
                    }
                }
                K::NamedImports => {
                    let g = self.g;
                    for spec in kids(part).filter(|s| g.kind(*s) == K::ImportSpecifier) {
                        let Some(name) = self.field(spec, f.name) else {
                            continue;
                        };
                        let local = self.field(spec, f.alias).unwrap_or(name);
                        let (name, local) =
                            (self.property_name(name), self.text(local).to_string());
                        self.add_import(module.to_string(), Some(name), local, sp.clone());
                    }
                }
                _ => {}
            }
        }
    }

    fn add_import(&mut self, module: String, name: Option<String>, local: String, span: Span) {
        self.m.imports.push(Import {
            module,
            name,
            local,
            span,
            function: self.func,
        });
    }

    /// `require('m')` / `require('m').x`, read from the lowered value.
    fn required(&self, value: ExprId) -> Option<(String, Option<String>)> {
        match &self.m.expr(value).kind {
            ExprKind::Call(call) if !call.is_new && call.args.len() == 1 => {
                let is_require =
                    matches!(&self.m.expr(call.callee).kind, ExprKind::Name(n) if n == "require");
                let module = self.m.str_value(call.args[0])?;
                is_require.then(|| (module.to_string(), None))
            }
            ExprKind::Attr { obj, name } => match self.required(*obj)? {
                (module, None) => Some((module, Some(name.clone()))),
                _ => None,
            },
            _ => None,
        }
    }

    /// `const x = require('m')` (and `require('m').x`): an import of `x`.
    fn note_require(&mut self, local: &str, value: ExprId, sp: Span) {
        if let Some((module, name)) = self.required(value) {
            self.add_import(module, name, local.to_string(), sp);
        }
    }

    /// `const { a, b: c } = require('m')`: imports of `a` and `b` (as `c`).
    fn note_destructured_require(&mut self, value: ExprId, bindings: &[Binding], sp: Span) {
        let Some((module, None)) = self.required(value) else {
            return;
        };
        for b in bindings {
            if let (BindTarget::Name(local, _), [Step::Prop(name)]) = (&b.target, b.path.as_slice())
            {
                self.add_import(
                    module.clone(),
                    Some(name.clone()),
                    local.clone(),
                    sp.clone(),
                );
            }
        }
    }

    fn add_export(&mut self, name: String, value: ExportValue, span: Span) {
        if self.in_namespace == 0 {
            self.m.exports.push(Export { name, value, span });
        }
    }

    /// A name's value is exported as that local binding, anything else as
    /// the expression.
    fn export_value(&self, value: ExprId) -> ExportValue {
        match &self.m.expr(value).kind {
            ExprKind::Name(n) => ExportValue::Local(n.clone()),
            _ => ExportValue::Expr(value),
        }
    }

    /// `module.exports = …`, `module.exports.x = …`, `exports.x = …`.
    fn note_export_assignment(&mut self, target: ExprId, value: ExprId, sp: Span) {
        let exported = match &self.m.expr(target).kind {
            ExprKind::Attr { obj, name } => match self.m.dotted(*obj).as_deref() {
                Some("module") if name == "exports" => None,
                Some("module.exports" | "exports") => Some(name.clone()),
                _ => return,
            },
            _ => return,
        };
        if let Some(name) = exported {
            let value = self.export_value(value);
            return self.add_export(name, value, sp);
        }
        // `module.exports = { a, b: c }`: one export per property.
        if let ExprKind::Dict(entries) = &self.m.expr(value).kind {
            let named: Vec<(String, ExprId)> = entries
                .iter()
                .filter_map(|e| match &e.key {
                    DictKey::Name(k) => Some((k.clone(), e.value)),
                    _ => None,
                })
                .collect();
            for (name, value) in named {
                let value = self.export_value(value);
                self.add_export(name, value, sp.clone());
            }
            return;
        }
        let value = self.export_value(value);
        self.add_export("default".into(), value, sp);
    }

    fn export_stmt(&mut self, node: Node, out: &mut Vec<StmtId>) {
        let f = &self.g.f;
        let sp = span(node);
        let is_default = self.has_token(node, K::Default);
        if let Some(declaration) = self.field(node, f.declaration) {
            return self.export_declaration(node, declaration, is_default, out);
        }
        let source_node = self.field(node, f.source);
        let source = source_node.map(|s| self.string_value(s));
        let mut star = source.is_some();
        for kid in kids(node) {
            match self.kind(kid) {
                K::ExportClause => {
                    star = false;
                    self.export_clause(kid, source.as_deref(), sp.clone());
                }
                K::NamespaceExport => {
                    star = false;
                    let name = self.first_kid(kid).map(|n| self.property_name(n));
                    if let (Some(name), Some(module)) = (name, &source) {
                        let value = ExportValue::ReExport {
                            module: module.clone(),
                            member: None,
                        };
                        self.add_export(name, value, sp.clone());
                    }
                }
                K::Decorator => {}
                _ if Some(kid) == source_node => {}
                // `export default expr` (field `value`), TS `export = expr`.
                _ => self.export_default_value(kid, sp.clone(), out),
            }
        }
        if star {
            if let Some(module) = source {
                let value = ExportValue::ReExport {
                    module,
                    member: None,
                };
                self.add_export("*".into(), value, sp);
            }
        }
    }

    fn export_clause(&mut self, clause: Node, source: Option<&str>, sp: Span) {
        let f = &self.g.f;
        let g = self.g;
        for spec in kids(clause).filter(|s| g.kind(*s) == K::ExportSpecifier) {
            let Some(name) = self.field(spec, f.name) else {
                continue;
            };
            let local = self.property_name(name);
            let exported = self
                .field(spec, f.alias)
                .map(|a| self.property_name(a))
                .unwrap_or_else(|| local.clone());
            let value = match source {
                Some(module) => ExportValue::ReExport {
                    module: module.to_string(),
                    member: Some(local),
                },
                None => ExportValue::Local(local),
            };
            self.add_export(exported, value, sp.clone());
        }
    }

    /// `export default <expr>` / TS `export = <expr>`: a name is exported
    /// as the local, anything else as the expression, which also stays in
    /// the module's code as a statement (so its calls are seen).
    fn export_default_value(&mut self, value: Node, sp: Span, out: &mut Vec<StmtId>) {
        let e = self.expr(value);
        let exported = self.export_value(e);
        if matches!(exported, ExportValue::Expr(_)) {
            self.push_stmt(StmtKind::Expr(e), sp.clone(), out);
        }
        self.add_export("default".into(), exported, sp);
    }

    /// `export const a = …`, `export function f`, `export class C`,
    /// `export default function f`.
    fn export_declaration(
        &mut self,
        export: Node,
        decl: Node,
        is_default: bool,
        out: &mut Vec<StmtId>,
    ) {
        let sp = span(export);
        let mut names = Vec::new();
        match self.kind(decl) {
            K::ClassDeclaration | K::AbstractClassDeclaration => {
                // `@Injectable() export class G`: the decorator is the export's.
                let decorators = self.decorators(export);
                let id = self.class(decl, decorators);
                self.push_stmt(StmtKind::ClassDef(id), span(decl), out);
                names.extend(self.m.class(id).name.clone());
            }
            K::FunctionDeclaration | K::GeneratorFunctionDeclaration => {
                let id = self.function(decl, FnHead::default());
                self.push_stmt(StmtKind::FunctionDef(id), span(decl), out);
                names.extend(self.m.func(id).name.clone());
            }
            K::LexicalDeclaration | K::VariableDeclaration => {
                self.declaration(decl, out);
                let mut bindings = Vec::new();
                for declarator in kids(decl) {
                    if let Some(name) = self.field(declarator, self.g.f.name) {
                        self.bindings(name, &mut Vec::new(), &mut bindings);
                    }
                }
                names.extend(bindings.into_iter().filter_map(|b| match b.target {
                    BindTarget::Name(n, _) => Some(n),
                    BindTarget::Expr(_) => None,
                }));
            }
            _ => self.stmt(decl, out),
        }
        for name in names {
            let exported = if is_default {
                "default".into()
            } else {
                name.clone()
            };
            self.add_export(exported, ExportValue::Local(name), sp.clone());
        }
    }

    // --- functions -------------------------------------------------------------

    /// Lowers a function-like node (declaration, expression, arrow, method)
    /// into its own `Function`; its body is lowered with it as the current
    /// function.
    fn function(&mut self, node: Node, head: FnHead) -> FuncId {
        let id = self.start_function(node, head);
        let outer = std::mem::replace(&mut self.func, id);
        let mut body = Vec::new();
        let params = self.params(node, &mut body);
        self.function_body(node, &mut body);
        self.func = outer;
        let function = &mut self.m.functions[id.index()];
        function.params = params;
        function.body = body;
        id
    }

    /// The `Function` without params and body, pushed (so it precedes the
    /// functions nested in it).
    fn start_function(&mut self, node: Node, head: FnHead) -> FuncId {
        let f = &self.g.f;
        let k = self.kind(node);
        // A function's own name wins over the context's (`const f = function
        // g() {}` is `g`); a method's name comes with `head`.
        let own_name = self
            .field(node, f.name)
            .filter(|_| k != K::MethodDefinition)
            .map(|n| (self.text(n).to_string(), span(n)));
        let (name, name_span) = match own_name.or(head.name) {
            Some((name, name_span)) => (Some(name), name_span),
            None => (None, node.start_byte()..node.start_byte()),
        };
        let kind = match k {
            K::FunctionDeclaration | K::GeneratorFunctionDeclaration | K::MethodDefinition => {
                FunctionKind::Def
            }
            _ => FunctionKind::Lambda,
        };
        let (is_async, is_star, is_static) = self.modifiers(node);
        let generator_kind = matches!(k, K::GeneratorFunction | K::GeneratorFunctionDeclaration);
        let id = FuncId(self.m.functions.len() as u32);
        self.m.functions.push(Function {
            name,
            kind,
            span: head.start.unwrap_or(node.start_byte())..node.end_byte(),
            name_span,
            params: Vec::new(),
            body: Vec::new(),
            is_async,
            is_generator: is_star || generator_kind,
            parent: Some(self.func),
            class: head.class,
            decorators: head.decorators,
            is_static,
        });
        id
    }

    fn function_body(&mut self, node: Node, body: &mut Vec<StmtId>) {
        match self.field(node, self.g.f.body) {
            Some(b) if self.kind(b) == K::StatementBlock => {
                for kid in kids(b) {
                    self.stmt(kid, body);
                }
            }
            // An arrow's expression body: one `Return`.
            Some(e) => {
                let value = self.expr(e);
                self.push_stmt(StmtKind::Return(Some(value)), span(e), body);
            }
            None => {}
        }
    }

    /// `async`, `*` and `static` written before a function or member.
    fn modifiers(&self, node: Node) -> (bool, bool, bool) {
        let (mut is_async, mut star, mut is_static) = (false, false, false);
        for t in tokens(node).filter(|t| !t.is_named()) {
            match self.kind(t) {
                K::Async => is_async = true,
                K::Star => star = true,
                K::Static => is_static = true,
                _ => {}
            }
        }
        (is_async, star, is_static)
    }

    /// The parameters; TS parameter properties (`private readonly redis:
    /// Redis`) also add `this.redis = redis` to `prologue`.
    fn params(&mut self, function: Node, prologue: &mut Vec<StmtId>) -> Vec<Param> {
        let f = &self.g.f;
        if let Some(single) = self.field(function, f.parameter) {
            return vec![self.plain_param(single, single)];
        }
        let Some(list) = self.field(function, f.parameters) else {
            return Vec::new();
        };
        let mut params = Vec::new();
        for p in kids(list) {
            match self.kind(p) {
                K::RequiredParameter | K::OptionalParameter => {
                    if let Some(param) = self.ts_param(p, prologue) {
                        params.push(param);
                    }
                }
                K::AssignmentPattern => {
                    let Some(left) = self.field(p, f.left) else {
                        continue;
                    };
                    let mut param = self.plain_param(left, p);
                    param.default = self.opt_expr(self.field(p, f.right));
                    params.push(param);
                }
                _ => params.push(self.plain_param(p, p)),
            }
        }
        params
    }

    /// A parameter from its pattern: a name, `...rest`, or a destructuring
    /// pattern (named `{}` / `[]`, with the names it binds).
    fn plain_param(&mut self, pattern: Node, whole: Node) -> Param {
        let mut param = Param {
            name: String::new(),
            span: span(whole),
            annotation: None,
            default: None,
            rest: false,
            decorators: Vec::new(),
            destructured: Vec::new(),
        };
        let mut pattern = pattern;
        if self.kind(pattern) == K::RestPattern {
            param.rest = true;
            if let Some(inner) = self.first_kid(pattern) {
                pattern = inner;
            }
        }
        match self.kind(pattern) {
            K::ObjectPattern | K::ArrayPattern => {
                param.name = if self.kind(pattern) == K::ObjectPattern {
                    "{}"
                } else {
                    "[]"
                }
                .into();
                let mut bindings = Vec::new();
                self.bindings(pattern, &mut Vec::new(), &mut bindings);
                param.destructured = bindings
                    .into_iter()
                    .filter_map(|b| {
                        let BindTarget::Name(local, _) = b.target else {
                            return None;
                        };
                        let path: Option<Vec<String>> = b
                            .path
                            .iter()
                            .map(|s| match s {
                                Step::Prop(p) => Some(p.clone()),
                                Step::Index(i) => Some(i.to_string()),
                                Step::Rest => None,
                            })
                            .collect();
                        Some((local, path?.join(".")))
                    })
                    .collect();
            }
            _ => param.name = self.text(pattern).to_string(),
        }
        param
    }

    /// A TS parameter: pattern, type, default, decorators, and for a
    /// parameter property the `this.x = x` assignment.
    fn ts_param(&mut self, node: Node, prologue: &mut Vec<StmtId>) -> Option<Param> {
        let f = &self.g.f;
        let pattern = self
            .field(node, f.pattern)
            .or_else(|| self.field(node, f.name))?;
        if self.kind(pattern) == K::This {
            return None; // `function f(this: Foo)` declares `this`'s type only.
        }
        let decorators = self.decorators(node);
        let mut param = self.plain_param(pattern, node);
        param.decorators = decorators;
        param.annotation = self.field(node, f.type_).and_then(|t| self.annotation(t));
        param.default = self.opt_expr(self.field(node, f.value));
        let is_property = tokens(node).any(|t| {
            matches!(
                self.kind(t),
                K::AccessibilityModifier | K::OverrideModifier | K::Readonly
            )
        });
        if is_property && self.kind(pattern) == K::Identifier {
            self.parameter_property(&param, span(pattern), prologue);
        }
        Some(param)
    }

    /// `constructor(private redis: Redis)` also assigns `this.redis = redis`.
    fn parameter_property(&mut self, param: &Param, name_span: Span, prologue: &mut Vec<StmtId>) {
        let this = self.push_expr(ExprKind::This, param.span.clone());
        let field = ExprKind::Attr {
            obj: this,
            name: param.name.clone(),
        };
        let target = self.push_expr(field, param.span.clone());
        let value = self.push_expr(ExprKind::Name(param.name.clone()), name_span);
        let kind = StmtKind::Assign {
            target,
            value,
            op: None,
            declares: false,
        };
        self.push_stmt(kind, param.span.clone(), prologue);
    }

    fn decorators(&mut self, node: Node) -> Vec<ExprId> {
        kids(node)
            .filter(|d| self.kind(*d) == K::Decorator)
            .collect::<Vec<_>>()
            .into_iter()
            .filter_map(|d| self.decorator(d))
            .collect()
    }

    fn decorator(&mut self, node: Node) -> Option<ExprId> {
        self.opt_expr(self.first_kid(node))
    }

    // --- classes ---------------------------------------------------------------

    fn class(&mut self, node: Node, mut decorators: Vec<ExprId>) -> ClassId {
        let f = &self.g.f;
        let hint = self.name_hint.take();
        let (name, name_span) = match (self.field(node, f.name), hint) {
            (Some(n), _) => (Some(self.text(n).to_string()), span(n)),
            (None, Some((n, s))) => (Some(n), s),
            (None, None) => (None, node.start_byte()..node.start_byte()),
        };
        decorators.extend(self.decorators(node));
        let mut bases = Vec::new();
        let g = self.g;
        for heritage in kids(node).filter(|k| g.kind(*k) == K::ClassHeritage) {
            self.bases(heritage, &mut bases);
        }
        let id = ClassId(self.m.classes.len() as u32);
        self.m.classes.push(Class {
            name,
            span: span(node),
            name_span,
            bases,
            decorators,
            methods: Vec::new(),
            body: Vec::new(),
            function: self.func,
        });
        if let Some(body) = self.field(node, f.body) {
            self.class_body(id, body);
        }
        id
    }

    /// `extends` expressions, then TS `implements` types (NestJS guards are
    /// recognised by `implements CanActivate`).
    fn bases(&mut self, heritage: Node, out: &mut Vec<ExprId>) {
        for clause in kids(heritage) {
            match self.kind(clause) {
                K::ExtendsClause => {
                    let g = self.g;
                    for e in kids(clause).filter(|e| g.kind(*e) != K::TypeArguments) {
                        out.push(self.expr(e));
                    }
                }
                K::ImplementsClause => {
                    for t in kids(clause) {
                        out.extend(self.type_expr(t));
                    }
                }
                // JavaScript: the heritage is the base expression itself.
                _ => out.push(self.expr(clause)),
            }
        }
    }

    fn class_body(&mut self, class: ClassId, body: Node) {
        // TS writes member decorators as siblings before the member.
        let mut pending: Vec<ExprId> = Vec::new();
        let mut pending_start = None;
        for member in kids(body) {
            match self.kind(member) {
                K::Decorator => {
                    pending_start.get_or_insert(member.start_byte());
                    pending.extend(self.decorator(member));
                }
                K::MethodDefinition => {
                    let decorators = std::mem::take(&mut pending);
                    let start = pending_start.take();
                    self.method(class, member, decorators, start);
                }
                K::PublicFieldDefinition | K::FieldDefinition => {
                    pending.clear();
                    pending_start = None;
                    self.field_definition(class, member);
                }
                K::ClassStaticBlock => {
                    let stmts = self.body_of(self.field(member, self.g.f.body));
                    self.m.classes[class.index()].body.extend(stmts);
                }
                _ => {
                    pending.clear();
                    pending_start = None;
                }
            }
        }
    }

    fn method(
        &mut self,
        class: ClassId,
        node: Node,
        mut decorators: Vec<ExprId>,
        start: Option<usize>,
    ) {
        decorators.extend(self.decorators(node));
        let name = self
            .field(node, self.g.f.name)
            .map(|n| (self.property_name(n), span(n)));
        let head = FnHead {
            name,
            start,
            class: Some(class),
            decorators,
        };
        let id = self.function(node, head);
        self.m.classes[class.index()].methods.push(id);
    }

    /// A class field: `Assign { this.f = v }`, `Class.f = v` when static;
    /// a field without a value makes no statement.
    fn field_definition(&mut self, class: ClassId, node: Node) {
        let f = &self.g.f;
        let name = self
            .field(node, f.name)
            .or_else(|| self.field(node, f.property));
        let (Some(name), Some(value)) = (name, self.field(node, f.value)) else {
            return;
        };
        let (_, _, is_static) = self.modifiers(node);
        let class_ref = self.m.class(class);
        let (owner, owner_span) = match (&class_ref.name, is_static) {
            (Some(class_name), true) => (
                ExprKind::Name(class_name.clone()),
                class_ref.name_span.clone(),
            ),
            _ => (ExprKind::This, span(name)),
        };
        let owner = self.push_expr(owner, owner_span);
        let target = match self.kind(name) {
            K::ComputedPropertyName => {
                let index = self.expr(name);
                ExprKind::Subscript { obj: owner, index }
            }
            _ => ExprKind::Attr {
                obj: owner,
                name: self.property_name(name),
            },
        };
        let target = self.push_expr(target, span(name));
        let value = self.named_value(value, name);
        // `handle = async (req) => {}` is a method in all but syntax.
        if let ExprKind::Function(f) = self.m.expr(value).kind {
            self.m.functions[f.index()].class = Some(class);
        }
        let kind = StmtKind::Assign {
            target,
            value,
            op: None,
            declares: false,
        };
        let mut out = Vec::new();
        self.push_stmt(kind, span(node), &mut out);
        self.m.classes[class.index()].body.extend(out);
    }

    // --- expressions -----------------------------------------------------------

    fn expr(&mut self, node: Node) -> ExprId {
        if !self.enter() {
            self.name_hint = None;
            return self.push_expr(ExprKind::Unknown(Vec::new()), span(node));
        }
        let id = self.expr_inner(node);
        self.leave();
        id
    }

    /// Picks the handler, then calls it once (see `stmt_inner`). Each
    /// handler pushes its own expression.
    fn expr_inner(&mut self, node: Node) -> ExprId {
        let handler: ExprHandler<'a> = match self.kind(node) {
            // TS-only wrappers and parentheses: the inner expression.
            K::ParenthesizedExpression
            | K::AsExpression
            | K::SatisfiesExpression
            | K::NonNullExpression
            | K::TypeAssertion
            | K::InstantiationExpression
            | K::ComputedPropertyName => Self::unwrapped,
            K::ArrowFunction | K::FunctionExpression | K::GeneratorFunction => Self::function_expr,
            K::Class => Self::class_expr,
            k => {
                // Only the kinds above take a name from their context.
                self.name_hint = None;
                match k {
                    K::MemberExpression => Self::member,
                    K::SubscriptExpression => Self::subscript,
                    K::CallExpression | K::NewExpression => Self::call,
                    K::Array => Self::array,
                    K::Object => Self::object,
                    K::SpreadElement | K::AwaitExpression | K::YieldExpression => Self::prefixed,
                    K::AssignmentExpression | K::AugmentedAssignmentExpression => Self::assign_expr,
                    K::BinaryExpression => Self::binary,
                    K::UnaryExpression | K::UpdateExpression => Self::unary,
                    K::TernaryExpression => Self::ternary,
                    K::TemplateString => Self::template_expr,
                    K::JsxElement | K::JsxSelfClosingElement => Self::jsx,
                    _ => Self::leaf,
                }
            }
        };
        handler(self, node)
    }

    fn unwrapped(&mut self, node: Node) -> ExprId {
        let g = self.g;
        let inner =
            kids(node).find(|n| !matches!(g.kind(*n), K::TypeArguments | K::TypeAnnotation));
        match inner {
            Some(inner) => self.expr(inner), // the name hint passes through
            None => self.push_expr(ExprKind::Unknown(Vec::new()), span(node)),
        }
    }

    fn function_expr(&mut self, node: Node) -> ExprId {
        let head = FnHead {
            name: self.name_hint.take(),
            ..FnHead::default()
        };
        let id = self.function(node, head);
        self.push_expr(ExprKind::Function(id), span(node))
    }

    fn class_expr(&mut self, node: Node) -> ExprId {
        let id = self.class(node, Vec::new());
        self.push_expr(ExprKind::Class(id), span(node))
    }

    fn array(&mut self, node: Node) -> ExprId {
        let items = self.elements(node);
        self.push_expr(ExprKind::List(items), span(node))
    }

    fn template_expr(&mut self, node: Node) -> ExprId {
        let parts = self.template(node);
        self.push_expr(ExprKind::Template(parts), span(node))
    }

    fn jsx(&mut self, node: Node) -> ExprId {
        let mut parts = Vec::new();
        self.jsx_parts(node, &mut parts);
        self.push_expr(ExprKind::Unknown(parts), span(node))
    }

    /// Names, literals, and anything else: `Unknown` with the expressions
    /// inside (regexes, `new.target`, sequences, errors), so their calls
    /// are still seen.
    fn leaf(&mut self, node: Node) -> ExprId {
        let kind = match self.kind(node) {
            K::Identifier | K::ShorthandPropertyIdentifier | K::PropertyIdentifier => {
                ExprKind::Name(self.text(node).to_string())
            }
            K::This => ExprKind::This,
            K::Super => ExprKind::Super,
            K::True => ExprKind::Bool(true),
            K::False => ExprKind::Bool(false),
            K::Null | K::Undefined => ExprKind::Null,
            K::Import => ExprKind::Name("import".into()),
            K::Regex | K::MetaProperty => ExprKind::Unknown(Vec::new()),
            K::Number => ExprKind::Num(number_value(self.text(node))),
            K::String => ExprKind::Str(self.string_value(node)),
            _ => ExprKind::Unknown(self.elements(node)),
        };
        self.push_expr(kind, span(node))
    }

    /// `...x`, `await x`, `yield x`.
    fn prefixed(&mut self, node: Node) -> ExprId {
        let k = self.kind(node);
        let inner = self.opt_expr(self.first_kid(node));
        let kind = match (k, inner) {
            (K::YieldExpression, inner) => ExprKind::Yield(inner),
            (K::AwaitExpression, Some(inner)) => ExprKind::Await(inner),
            (K::SpreadElement, Some(inner)) => ExprKind::Spread(inner),
            _ => ExprKind::Unknown(Vec::new()),
        };
        self.push_expr(kind, span(node))
    }

    /// Child expressions in order (`...x` as `Spread`). Loops rather than
    /// iterator chains on the recursive paths: fewer frames per level.
    fn elements(&mut self, node: Node) -> Vec<ExprId> {
        let mut out = Vec::new();
        for kid in kids(node) {
            out.push(self.expr(kid));
        }
        out
    }

    // Not `Option::map` with a closure: two frames fewer per level.
    #[allow(clippy::manual_map)]
    fn opt_expr(&mut self, node: Option<Node>) -> Option<ExprId> {
        match node {
            Some(n) => Some(self.expr(n)),
            None => None,
        }
    }

    #[allow(clippy::manual_map)]
    fn opt_pattern_expr(&mut self, node: Option<Node>) -> Option<ExprId> {
        match node {
            Some(n) => Some(self.pattern_expr(n)),
            None => None,
        }
    }

    /// A node whose expected parts are missing (error recovery): the
    /// expressions inside it.
    fn unknown_of(&mut self, node: Node) -> ExprId {
        let parts = self.elements(node);
        self.push_expr(ExprKind::Unknown(parts), span(node))
    }

    fn member(&mut self, node: Node) -> ExprId {
        let f = &self.g.f;
        let (Some(object), Some(property)) =
            (self.field(node, f.object), self.field(node, f.property))
        else {
            return self.unknown_of(node);
        };
        let obj = self.expr(object);
        let name = self.text(property).to_string();
        self.push_expr(ExprKind::Attr { obj, name }, span(node))
    }

    fn subscript(&mut self, node: Node) -> ExprId {
        let f = &self.g.f;
        let (Some(object), Some(index)) = (self.field(node, f.object), self.field(node, f.index))
        else {
            return self.unknown_of(node);
        };
        let obj = self.expr(object);
        let index = self.expr(index);
        self.push_expr(ExprKind::Subscript { obj, index }, span(node))
    }

    /// Calls and `new` (`new X` without arguments too); a tagged template
    /// passes the template as the one argument.
    fn call(&mut self, node: Node) -> ExprId {
        let f = &self.g.f;
        let is_new = self.kind(node) == K::NewExpression;
        let callee_field = if is_new { f.constructor } else { f.function };
        let Some(callee) = self.field(node, callee_field) else {
            return self.unknown_of(node);
        };
        // tree-sitter-typescript reads `await p.exec<T>()` as a call of
        // `await p.exec`: lower it as the `await` of the call.
        let awaited = (!is_new && self.kind(callee) == K::AwaitExpression)
            .then(|| self.first_kid(callee))
            .flatten();
        let callee = self.expr(awaited.unwrap_or(callee));
        let args = match self.field(node, f.arguments) {
            Some(a) if self.kind(a) == K::Arguments => self.elements(a),
            Some(template) => vec![self.expr(template)],
            None => Vec::new(),
        };
        let call = Call {
            callee,
            args,
            keywords: Vec::new(),
            is_new,
        };
        if let Some(a) = awaited {
            let inner = self.push_expr(ExprKind::Call(call), a.start_byte()..node.end_byte());
            return self.push_expr(ExprKind::Await(inner), span(node));
        }
        self.push_expr(ExprKind::Call(call), span(node))
    }

    fn object(&mut self, node: Node) -> ExprId {
        let mut entries = Vec::new();
        for member in kids(node) {
            if let Some(entry) = self.object_member(member) {
                entries.push(entry);
            }
        }
        self.push_expr(ExprKind::Dict(entries), span(node))
    }

    /// `k: v`, `k`, `...o`, `m() {}` (functions take the key as name).
    fn object_member(&mut self, member: Node) -> Option<DictEntry> {
        let f = &self.g.f;
        let (key, value) = match self.kind(member) {
            K::Pair => {
                let key = self.field(member, f.key)?;
                let value = self.field(member, f.value)?;
                let dict_key = self.dict_key(key);
                if let DictKey::Name(name) = &dict_key {
                    self.name_hint = Some((name.clone(), span(key)));
                }
                (dict_key, self.expr(value))
            }
            K::ShorthandPropertyIdentifier => {
                let name = self.text(member).to_string();
                (DictKey::Name(name), self.expr(member))
            }
            K::SpreadElement => (DictKey::Spread, self.expr(self.first_kid(member)?)),
            K::MethodDefinition => {
                let key = self.field(member, f.name)?;
                let value = self.object_method(member, key);
                (self.dict_key(key), value)
            }
            _ => return None,
        };
        Some(DictEntry {
            key,
            value,
            span: span(member),
        })
    }

    fn object_method(&mut self, member: Node, key: Node) -> ExprId {
        let head = FnHead {
            name: Some((self.property_name(key), span(key))),
            ..FnHead::default()
        };
        let id = self.function(member, head);
        self.push_expr(ExprKind::Function(id), span(member))
    }

    fn dict_key(&mut self, key: Node) -> DictKey {
        match self.kind(key) {
            K::ComputedPropertyName => DictKey::Computed(self.expr(key)),
            _ => DictKey::Name(self.property_name(key)),
        }
    }

    /// A property or member name as written (a string key unquoted).
    fn property_name(&self, node: Node) -> String {
        match self.kind(node) {
            K::String => self.string_value(node),
            _ => self.text(node).to_string(),
        }
    }

    /// `a = b` inside an expression (`(x = f())`, `a = b = c`).
    fn assign_expr(&mut self, node: Node) -> ExprId {
        let f = &self.g.f;
        let (Some(left), Some(right)) = (self.field(node, f.left), self.field(node, f.right))
        else {
            return self.unknown_of(node);
        };
        let target = self.pattern_expr(left);
        let value = self.expr(right);
        self.push_expr(ExprKind::AssignExpr { target, value }, span(node))
    }

    fn binary(&mut self, node: Node) -> ExprId {
        let f = &self.g.f;
        let (Some(l), Some(r), Some(op)) = (
            self.field(node, f.left),
            self.field(node, f.right),
            self.field(node, f.operator),
        ) else {
            return self.unknown_of(node);
        };
        let op = self.kind(op);
        let left = self.expr(l);
        let right = self.expr(r);
        let kind = if let Some(op) = logic_op(op) {
            ExprKind::Logic { op, left, right }
        } else if let Some(op) = compare_op(op) {
            ExprKind::Compare { op, left, right }
        } else {
            let op = binary_op(op);
            ExprKind::Binary { op, left, right }
        };
        self.push_expr(kind, span(node))
    }

    fn unary(&mut self, node: Node) -> ExprId {
        let f = &self.g.f;
        let (Some(argument), Some(op)) =
            (self.field(node, f.argument), self.field(node, f.operator))
        else {
            return self.unknown_of(node);
        };
        let op = match self.kind(op) {
            K::Bang => UnaryOp::Not,
            K::Minus => UnaryOp::Neg,
            K::Plus => UnaryOp::Plus,
            K::TypeOf => UnaryOp::TypeOf,
            K::Void => UnaryOp::Void,
            K::Delete => UnaryOp::Delete,
            _ => UnaryOp::Other,
        };
        let operand = self.expr(argument);
        self.push_expr(ExprKind::Unary { op, operand }, span(node))
    }

    fn ternary(&mut self, node: Node) -> ExprId {
        let f = &self.g.f;
        let (Some(c), Some(t), Some(o)) = (
            self.field(node, f.condition),
            self.field(node, f.consequence),
            self.field(node, f.alternative),
        ) else {
            return self.unknown_of(node);
        };
        let cond = self.expr(c);
        let then = self.expr(t);
        let otherwise = self.expr(o);
        let kind = ExprKind::Ternary {
            cond,
            then,
            otherwise,
        };
        self.push_expr(kind, span(node))
    }

    /// The expressions embedded in JSX (attribute values, children), nested
    /// elements as their own `Unknown`.
    fn jsx_parts(&mut self, node: Node, out: &mut Vec<ExprId>) {
        for kid in kids(node) {
            match self.kind(kid) {
                K::JsxOpeningElement | K::JsxAttribute => self.jsx_parts(kid, out),
                K::JsxExpression => out.extend(self.elements(kid)),
                K::JsxElement | K::JsxSelfClosingElement => out.push(self.expr(kid)),
                _ => {}
            }
        }
    }

    // --- types -----------------------------------------------------------------

    /// A `type_annotation` as an expression: `express.Request<…>` is
    /// `Attr(Name(express), Request)`; unions and other type forms `None`.
    fn annotation(&mut self, node: Node) -> Option<ExprId> {
        let t = self.first_kid(node)?;
        self.type_expr(t)
    }

    fn type_expr(&mut self, node: Node) -> Option<ExprId> {
        if !self.enter() {
            return None;
        }
        let f = &self.g.f;
        let kind = match self.kind(node) {
            K::TypeIdentifier | K::PredefinedType | K::Identifier => {
                Some(ExprKind::Name(self.text(node).to_string()))
            }
            K::NestedTypeIdentifier | K::NestedIdentifier | K::MemberExpression => {
                let (object, name) = match self.kind(node) {
                    K::NestedTypeIdentifier => (f.module, f.name),
                    _ => (f.object, f.property),
                };
                let obj = self.field(node, object).and_then(|o| self.type_expr(o));
                let name = self.field(node, name).map(|n| self.text(n).to_string());
                obj.zip(name)
                    .map(|(obj, name)| ExprKind::Attr { obj, name })
            }
            K::GenericType => {
                let id = self.field(node, f.name).and_then(|n| self.type_expr(n));
                self.leave();
                return id;
            }
            _ => None,
        };
        self.leave();
        kind.map(|k| self.push_expr(k, span(node)))
    }

    // --- literals --------------------------------------------------------------

    /// A string literal's value: fragments and simple escapes.
    fn string_value(&self, node: Node) -> String {
        let mut value = String::new();
        for part in kids(node) {
            match self.kind(part) {
                K::EscapeSequence => unescape(self.text(part), &mut value),
                _ => value.push_str(self.text(part)),
            }
        }
        value
    }

    fn template(&mut self, node: Node) -> Vec<TemplatePart> {
        let mut parts = Vec::new();
        let mut literal = String::new();
        for part in kids(node) {
            match self.kind(part) {
                K::TemplateSubstitution => {
                    if !literal.is_empty() {
                        parts.push(TemplatePart::Str(std::mem::take(&mut literal)));
                    }
                    let inner = match self.first_kid(part) {
                        Some(e) => self.expr(e),
                        None => self.push_expr(ExprKind::Unknown(Vec::new()), span(part)),
                    };
                    parts.push(TemplatePart::Expr(inner));
                }
                K::EscapeSequence => unescape(self.text(part), &mut literal),
                _ => literal.push_str(self.text(part)),
            }
        }
        if !literal.is_empty() {
            parts.push(TemplatePart::Str(literal));
        }
        parts
    }
}

/// How a function got its name, and what it belongs to.
#[derive(Default)]
struct FnHead {
    /// A name from the context (`const f = …`, a method or object key).
    name: Option<(String, Span)>,
    /// Where the function starts when decorators precede it (TS members).
    start: Option<usize>,
    class: Option<ClassId>,
    decorators: Vec<ExprId>,
}

fn logic_op(op: K) -> Option<LogicOp> {
    match op {
        K::AndAnd => Some(LogicOp::And),
        K::OrOr => Some(LogicOp::Or),
        K::Nullish => Some(LogicOp::Nullish),
        _ => None,
    }
}

fn compare_op(op: K) -> Option<CmpOp> {
    Some(match op {
        K::EqEq | K::EqEqEq => CmpOp::Eq,
        K::NotEq | K::NotEqEq => CmpOp::NotEq,
        K::Lt => CmpOp::Lt,
        K::LtE => CmpOp::LtE,
        K::Gt => CmpOp::Gt,
        K::GtE => CmpOp::GtE,
        K::In => CmpOp::In,
        K::InstanceOf => CmpOp::InstanceOf,
        _ => return None,
    })
}

fn binary_op(op: K) -> BinOp {
    match op {
        K::Plus => BinOp::Add,
        K::Minus => BinOp::Sub,
        K::Star => BinOp::Mul,
        K::Slash => BinOp::Div,
        K::Percent => BinOp::Mod,
        K::StarStar => BinOp::Pow,
        _ => BinOp::Other,
    }
}

fn assign_op(op: K) -> BinOp {
    match op {
        K::PlusEq => BinOp::Add,
        K::MinusEq => BinOp::Sub,
        K::StarEq => BinOp::Mul,
        K::SlashEq => BinOp::Div,
        K::PercentEq => BinOp::Mod,
        K::StarStarEq => BinOp::Pow,
        K::NullishEq => BinOp::Nullish,
        K::OrOrEq => BinOp::Or,
        K::AndAndEq => BinOp::And,
        _ => BinOp::Other,
    }
}

/// A numeric literal: `1_000`, `0x1f`, `0o17`, `0b11`, `10n`, `1e3`.
fn number_value(text: &str) -> f64 {
    let cleaned;
    let mut t = text;
    if t.contains('_') {
        cleaned = t.replace('_', "");
        t = &cleaned;
    }
    let t = t.strip_suffix('n').unwrap_or(t);
    let radix = match t.get(..2) {
        Some("0x" | "0X") => 16,
        Some("0o" | "0O") => 8,
        Some("0b" | "0B") => 2,
        _ => return t.parse().unwrap_or(f64::NAN),
    };
    u64::from_str_radix(&t[2..], radix).map_or(f64::NAN, |v| v as f64)
}

/// Appends the character an escape sequence (`\n`, `\x41`, `\u{1F600}`)
/// stands for; a line continuation adds nothing.
fn unescape(seq: &str, out: &mut String) {
    let body = seq.strip_prefix('\\').unwrap_or(seq);
    let mut chars = body.chars();
    let Some(first) = chars.next() else {
        return;
    };
    let hex = |digits: &str| {
        u32::from_str_radix(digits.trim_matches(['{', '}']), 16)
            .ok()
            .and_then(char::from_u32)
    };
    let c = match first {
        'n' => Some('\n'),
        't' => Some('\t'),
        'r' => Some('\r'),
        'b' => Some('\u{8}'),
        'f' => Some('\u{c}'),
        'v' => Some('\u{b}'),
        '0' if body.len() == 1 => Some('\0'),
        'x' | 'u' => hex(&body[1..]),
        '\n' | '\r' | '\u{2028}' | '\u{2029}' => None,
        other => Some(other),
    };
    out.extend(c);
}

#[cfg(test)]
mod tests {
    use crate::ir::{dump, ExprKind, FunctionKind, Module, StmtKind};
    use crate::lang::Lang;
    use std::path::Path;
    use std::time::{Duration, Instant};

    fn lower(lang: Lang, src: &str) -> Module {
        crate::lower::lower_text(lang, Path::new("t.ts"), src).expect("grammar loads")
    }

    /// The expected dump, written indented in the test: the common
    /// indentation and the first empty line are removed.
    fn dedent(s: &str) -> String {
        let lines: Vec<&str> = s.strip_prefix('\n').unwrap_or(s).lines().collect();
        let indent = lines
            .iter()
            .filter(|l| !l.trim().is_empty())
            .map(|l| l.len() - l.trim_start().len())
            .min()
            .unwrap_or(0);
        let mut out: String = lines
            .iter()
            .map(|l| l.get(indent..).unwrap_or("").trim_end())
            .collect::<Vec<_>>()
            .join("\n")
            .trim_end()
            .to_string();
        out.push('\n');
        out
    }

    #[track_caller]
    fn assert_dump(lang: Lang, src: &str, expected: &str) {
        let module = lower(lang, src);
        let actual = dump(&module);
        assert_eq!(
            actual,
            dedent(expected),
            "\n--- actual dump ---\n{actual}-------------------"
        );
        assert_eq!(module.syntax_errors, 0, "unexpected syntax errors");
        assert!(!module.truncated);
    }

    #[test]
    fn express_middleware_with_a_module_map() {
        let src = r#"
const express = require('express');
const hits = new Map();
const WINDOW = 60 * 1000;

function limiter(req, res, next) {
  const ip = req.headers['x-forwarded-for']?.split(',')[0]?.trim() || req.socket.remoteAddress;
  const now = Date.now();
  const recent = (hits.get(ip) || []).filter((t) => now - t < WINDOW);
  if (recent.length >= 5) {
    return res.status(429).json({ error: 'Too many requests' });
  }
  hits.set(ip, [...(hits.get(ip) || []), now]);
  next();
}

module.exports = limiter;
"#;
        assert_dump(
            Lang::JavaScript,
            src,
            r#"
            import express = express
            export default = limiter
            fn#0 _()
              let express = require("express")
              let hits = new Map()
              let WINDOW = (60 Mul 1000)
              def fn#1
              module.exports = limiter
            fn#1 limiter(req, res, next) in fn#0
              let ip = (req.headers["x-forwarded-for"].split(",")[0].trim() Or req.socket.remoteAddress)
              let now = Date.now()
              let recent = (hits.get(ip) Or []).filter(fn#2)
              if (recent.length GtE 5):
                return res.status(429).json({error: "Too many requests"})
              hits.set(ip, [...(hits.get(ip) Or []), now])
              next()
            fn#2 _(t) in fn#1
              return ((now Sub t) Lt WINDOW)
            "#,
        );
    }

    #[test]
    fn redis_chains_pipelines_and_lua_commands() {
        let src = r#"
import Redis from 'ioredis';
const redis = new Redis(process.env.REDIS_URL!);
redis.defineCommand('rl', { lua: script, numberOfKeys: 1 });

export async function hit(ip: string) {
  const key = `rl:${ip}`;
  const [[, count]] = await redis.multi().incr(key).expire(key, 60).exec();
  const pipe = redis.pipeline();
  pipe.incr(key);
  await pipe.exec();
  return count as number;
}
"#;
        assert_dump(
            Lang::TypeScript,
            src,
            r#"
            import Redis = ioredis:default
            export hit = hit
            fn#0 _()
              import 0..1
              let redis = new Redis(process.env.REDIS_URL)
              redis.defineCommand("rl", {lua: script, numberOfKeys: 1})
              def fn#1
            fn#1 async hit(ip: string) in fn#0
              let key = `rl:{ip}`
              let count = await redis.multi().incr(key).expire(key, 60).exec()[0][1]
              let pipe = redis.pipeline()
              pipe.incr(key)
              await pipe.exec()
              return count
            "#,
        );
    }

    #[test]
    fn express_rate_limit_options_and_named_callbacks() {
        let src = r#"
import rateLimit from 'express-rate-limit';
export const apiLimiter = rateLimit({
  windowMs: 60_000,
  max: 5,
  keyGenerator: (req) => req.ip,
  handler(req, res) { res.sendStatus(429); },
});
app.use('/api', apiLimiter);
"#;
        assert_dump(
            Lang::JavaScript,
            src,
            r#"
            import rateLimit = express-rate-limit:default
            export apiLimiter = apiLimiter
            fn#0 _()
              import 0..1
              let apiLimiter = rateLimit({windowMs: 60000, max: 5, keyGenerator: fn#1, handler: fn#2})
              app.use("/api", apiLimiter)
            fn#1 keyGenerator(req) in fn#0
              return req.ip
            fn#2 handler(req, res) in fn#0
              res.sendStatus(429)
            "#,
        );
        let module = lower(Lang::JavaScript, src);
        let ExprKind::Call(call) = &module.exprs.iter().find(|e| matches!(&e.kind, ExprKind::Call(c) if module.dotted(c.callee).as_deref() == Some("rateLimit"))).unwrap().kind else {
            unreachable!()
        };
        let max = call.named_arg(&module, "max").unwrap();
        assert!(matches!(module.expr(max).kind, ExprKind::Num(n) if n == 5.0));
    }

    #[test]
    fn nestjs_guard_with_decorators_and_parameter_properties() {
        let src = r#"
import { CanActivate, ExecutionContext, Injectable } from '@nestjs/common';
import type { Request } from 'express';

@Injectable()
export class ThrottleGuard implements CanActivate {
  private static readonly LIMIT = 10;
  private hits = new Map<string, number>();

  constructor(private readonly redis: Redis, private config: ConfigService) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const req = context.switchToHttp().getRequest<Request>();
    const count = (this.hits.get(req.ip) ?? 0) + 1;
    this.hits.set(req.ip, count);
    return count <= ThrottleGuard.LIMIT;
  }

  @Post('login')
  login(@Req() req: express.Request, @Body() body: LoginDto) {}
}
"#;
        assert_dump(
            Lang::TypeScript,
            src,
            r#"
            import CanActivate = @nestjs/common:CanActivate
            import ExecutionContext = @nestjs/common:ExecutionContext
            import Injectable = @nestjs/common:Injectable
            import Request = express:Request
            export ThrottleGuard = ThrottleGuard
            class#0 ThrottleGuard(CanActivate)
              @Injectable()
              ThrottleGuard.LIMIT = 10
              this.hits = new Map()
            fn#0 _()
              import 0..3
              import 3..4
              class class#0
            fn#1 constructor(redis: Redis, config: ConfigService) in fn#0 of class#0
              this.redis = redis
              this.config = config
            fn#2 async canActivate(context: ExecutionContext) in fn#0 of class#0
              let req = context.switchToHttp().getRequest()
              let count = ((this.hits.get(req.ip) Nullish 0) Add 1)
              this.hits.set(req.ip, count)
              return (count LtE ThrottleGuard.LIMIT)
            fn#3 login(req: express.Request, body: LoginDto) in fn#0 of class#0
              @Post("login")
            "#,
        );
        let module = lower(Lang::TypeScript, src);
        let login = &module.functions[3];
        let param_decorators: Vec<String> = login
            .params
            .iter()
            .flat_map(|p| {
                p.decorators
                    .iter()
                    .map(|d| crate::ir::dump_expr(&module, *d))
            })
            .collect();
        assert_eq!(param_decorators, ["Req()", "Body()"]);
        // The method span starts at its decorator; its name span is the name.
        assert!(src[login.span.clone()].starts_with("@Post('login')"));
        assert_eq!(&src[login.name_span.clone()], "login");
        assert_eq!(module.classes[0].methods.len(), 3);
        assert_eq!(module.functions[1].kind, FunctionKind::Def);
    }

    #[test]
    fn nextjs_route_handler() {
        let src = r#"
import { NextRequest, NextResponse } from 'next/server';
import { ratelimit } from '@/lib/ratelimit';

export async function POST(req: NextRequest) {
  const ip = req.headers.get('x-forwarded-for') ?? '127.0.0.1';
  const { success } = await ratelimit.limit(ip);
  if (!success) return NextResponse.json({ error: 'slow down' }, { status: 429 });
  return NextResponse.json({ ok: true });
}
"#;
        assert_dump(
            Lang::TypeScript,
            src,
            r#"
            import NextRequest = next/server:NextRequest
            import NextResponse = next/server:NextResponse
            import ratelimit = @/lib/ratelimit:ratelimit
            export POST = POST
            fn#0 _()
              import 0..2
              import 2..3
              def fn#1
            fn#1 async POST(req: NextRequest) in fn#0
              let ip = (req.headers.get("x-forwarded-for") Nullish "127.0.0.1")
              let success = await ratelimit.limit(ip).success
              if Not(success):
                return NextResponse.json({error: "slow down"}, {status: 429})
              return NextResponse.json({ok: true})
            "#,
        );
    }

    #[test]
    fn hono_middleware_with_an_object_counter() {
        let src = r#"
import { Hono } from 'hono';
const app = new Hono();
const counts: Record<string, number> = {};
app.use('*', async (c, next) => {
  const ip = c.req.header('cf-connecting-ip') ?? 'anon';
  counts[ip] = (counts[ip] ?? 0) + 1;
  if (counts[ip] > 100) return c.text('Too Many Requests', 429);
  await next();
});
export default app;
"#;
        assert_dump(
            Lang::TypeScript,
            src,
            r#"
            import Hono = hono:Hono
            export default = app
            fn#0 _()
              import 0..1
              let app = new Hono()
              let counts = {}
              app.use("*", fn#1)
            fn#1 async _(c, next) in fn#0
              let ip = (c.req.header("cf-connecting-ip") Nullish "anon")
              counts[ip] = ((counts[ip] Nullish 0) Add 1)
              if (counts[ip] Gt 100):
                return c.text("Too Many Requests", 429)
              await next()
            "#,
        );
    }

    #[test]
    fn es_module_imports_and_exports() {
        let src = r#"
import 'reflect-metadata';
import x from 'm';
import { a as b, c } from './local';
import * as ns from "ns";
import def, * as all from 'both';
import q = require('q');
export const one = 1, { two, three: tres } = obj;
export function f() {}
export class C {}
export { b as bee, c };
export { x as why, default as dflt } from './re';
export * from 'star';
export * as space from 'star2';
export default rateLimit({ max: 5 });
export interface I { a: string }
export type T = string;
"#;
        assert_dump(
            Lang::TypeScript,
            src,
            r#"
            import x = m:default
            import b = ./local:a
            import c = ./local:c
            import ns = ns
            import def = both:default
            import all = both
            import q = q
            export one = one
            export two = two
            export tres = tres
            export f = f
            export C = C
            export bee = b
            export c = c
            export why = from ./re:x
            export dflt = from ./re:default
            export * = from star:*
            export space = from star2:*
            export default = rateLimit({max: 5})
            class#0 C()
            fn#0 _()
              import 0..1
              import 1..3
              import 3..4
              import 4..6
              import 6..7
              let one = 1
              let two = obj.two
              let tres = obj.three
              def fn#1
              class class#0
              rateLimit({max: 5})
            fn#1 f() in fn#0
            "#,
        );
    }

    #[test]
    fn default_exports_of_declarations_are_locals() {
        let module = lower(
            Lang::TypeScript,
            "export default async function handler(req, res) {}\n",
        );
        assert_eq!(
            dump(&module).lines().next(),
            Some("export default = handler")
        );
        let module = lower(Lang::JavaScript, "export default class Store {}\n");
        assert_eq!(dump(&module).lines().next(), Some("export default = Store"));
        let module = lower(Lang::JavaScript, "export default (req, res) => {};\n");
        assert_eq!(dump(&module).lines().next(), Some("export default = fn#1"));
    }

    #[test]
    fn commonjs_requires_and_exports() {
        let src = r#"
const redis = require('redis');
const { createClient, Pool: P } = require('pg');
const limit = require('./limits').perMinute;
module.exports = { redis, check: checkLimit, make: () => 1 };
module.exports.extra = extra;
exports.helper = function helper() {};
module.exports = new Limiter();
function later() { const lazy = require('lazy'); }
"#;
        assert_dump(
            Lang::JavaScript,
            src,
            r#"
            import redis = redis
            import createClient = pg:createClient
            import P = pg:Pool
            import limit = ./limits:perMinute
            import lazy = lazy
            export redis = redis
            export check = checkLimit
            export make = fn#1
            export extra = extra
            export helper = fn#2
            export default = new Limiter()
            fn#0 _()
              let redis = require("redis")
              let createClient = require("pg").createClient
              let P = require("pg").Pool
              let limit = require("./limits").perMinute
              module.exports = {redis: redis, check: checkLimit, make: fn#1}
              module.exports.extra = extra
              exports.helper = fn#2
              module.exports = new Limiter()
              def fn#3
            fn#1 make() in fn#0
              return 1
            fn#2 helper() in fn#0
            fn#3 later() in fn#0
              let lazy = require("lazy")
            "#,
        );
        let module = lower(Lang::JavaScript, src);
        assert_eq!(module.imports[4].function.0, 3, "a require in a function");
    }

    #[test]
    fn destructuring_declarations_assignments_and_parameters() {
        let src = r#"
const { ip, headers } = req;
const { a = 5, b: { c }, d: [e, , f], ...rest } = opts;
[p, q] = [q, p];
({ left: this.l, right: o[k] } = pair);
function params(a, b = 2, { ip, headers: { host } }, [first], ...others) {}
let declaredOnly;
"#;
        assert_dump(
            Lang::JavaScript,
            src,
            r#"
            fn#0 _()
              let ip = req.ip
              let headers = req.headers
              let a = (opts.a Nullish 5)
              let c = opts.b.c
              let e = opts.d[0]
              let f = opts.d[2]
              let rest = opts
              p = [q, p][0]
              q = [q, p][1]
              this.l = pair.left
              o[k] = pair.right
              def fn#1
            fn#1 params(a, b = 2, {} {ip->ip} {headers.host->host}, [] {0->first}, *others) in fn#0
            "#,
        );
        // Every binding of one declaration has the declaration's span.
        let module = lower(Lang::JavaScript, src);
        let top = &module.functions[0].body;
        assert_eq!(module.stmt(top[0]).span, module.stmt(top[1]).span);
    }

    #[test]
    fn control_flow_statements() {
        let src = r#"
for (const [k, v] of entries) { if (v.expires < now) delete store[k]; }
for (k in o) continue;
for (let i = 0; i < n; i++) total += i;
while (queue.length) queue.shift();
do { n-- } while (n > 0);
try { await client.incr(key) } catch (err) { throw new Error('redis down') } finally { release() }
outer: for (const a of b) { break outer; }
switch (req.method) { case 'POST': limit(); break; default: pass(); }
if (a) x(); else if (b) y(); else z();
"#;
        assert_dump(
            Lang::JavaScript,
            src,
            r#"
            fn#0 _()
              for (k, v) in entries:
                if (v.expires Lt now):
                  Delete(store[k])
              for k in o:
                jump
              let i = 0
              while (i Lt n):
                total Add= i
                i Add= 1
              while queue.length:
                queue.shift()
              while (n Gt 0):
                n Sub= 1
              try:
                await client.incr(key)
              except  as err:
                raise new Error("redis down")
              finally:
                release()
              for a in b:
                jump
              other req.method, "POST":
                limit()
                jump
                pass()
              if a:
                x()
              else:
                if b:
                  y()
                else:
                  z()
            "#,
        );
    }

    #[test]
    fn operators_and_literals() {
        let src = r#"
a ??= b; c ||= d; e &&= f; g += 1; h **= 2;
x = y, z = w;
const lit = ['a\tb', "\x41\u0042\u{43}", 0x1f, 1_000, 10n, 1e3, .5, true, false, null, undefined, /re/g];
const ops = [void 0, typeof x, !y, -1, ~z, a instanceof B, 'k' in o, a !== b, 2 ** 3, a % b, a & b];
const t = `rl:${ip}:${route}`, plain = `abc`, cond = ok ? 1 : 2, nested = (x = 1);
new.target; tag`x${y}`;
"#;
        assert_dump(
            Lang::JavaScript,
            src,
            r#"
            fn#0 _()
              a Nullish= b
              c Or= d
              e And= f
              g Add= 1
              h Pow= 2
              x = y
              z = w
              let lit = ["a\tb", "ABC", 31, 1000, 10, 1000, 0.5, true, false, null, null, ?()]
              let ops = [Void(0), TypeOf(x), Not(y), Neg(1), Other(z), (a InstanceOf B), ("k" In o), (a NotEq b), (2 Pow 3), (a Mod b), (a Other b)]
              let t = `rl:{ip}:{route}`
              let plain = `abc`
              let cond = (ok ? 1 : 2)
              let nested = (x := 1)
              ?()
              tag(`x{y}`)
            "#,
        );
    }

    #[test]
    fn functions_and_classes_take_their_names_from_context() {
        let src = r#"
const f = function named() {}, g = async function* () {}, h = class {};
const obj = { async m() {}, get g() { return 1 }, 'str-key': () => 0, [comp]: function () {} };
class A extends Base { static count = 0; handler = async (req) => {}; #secret = 1; static make() {} }
"#;
        assert_dump(
            Lang::JavaScript,
            src,
            r#"
            class#0 h()
            class#1 A(Base)
              A.count = 0
              this.handler = fn#7
              this.#secret = 1
            fn#0 _()
              let f = fn#1
              let g = fn#2
              let h = class#0
              let obj = {m: fn#3, g: fn#4, str-key: fn#5, [comp]: fn#6}
              class class#1
            fn#1 named() in fn#0
            fn#2 async g() in fn#0
            fn#3 async m() in fn#0
            fn#4 g() in fn#0
              return 1
            fn#5 str-key() in fn#0
              return 0
            fn#6 _() in fn#0
            fn#7 async handler(req) in fn#0 of class#1
            fn#8 make() in fn#0 of class#1
            "#,
        );
    }

    #[test]
    fn super_new_without_arguments_and_static_blocks() {
        let src = r#"
class RedisStore extends Store {
  static { RedisStore.instances = new Set; }
  constructor(opts) { super(opts); super.init?.(); }
}
"#;
        assert_dump(
            Lang::JavaScript,
            src,
            r#"
            class#0 RedisStore(Store)
              RedisStore.instances = new Set()
            fn#0 _()
              class class#0
            fn#1 constructor(opts) in fn#0 of class#0
              super(opts)
              super.init()
            "#,
        );
    }

    #[test]
    fn typescript_only_syntax_lowers_to_the_inner_expression() {
        let src = r#"
const a = b as unknown as C<D>;
const e = f!.g!;
const h = i satisfies J;
const k = <L>m;
const n = o<P>(q);
interface I { x: number }
type T = { y: string };
enum E { A = 1 }
declare const z: number;
declare module 'mod' { export const w: number; }
namespace NS { export const inner = call(); }
function over(a: string): void;
function over(a: any) { return a; }
abstract class Base<T> extends Parent<T> implements I, express.Handler { abstract run(): void; }
function typed(req: express.Request<{}, any>, res: Response | undefined, opt?: Options, ...rest: string[]) {}
"#;
        assert_dump(
            Lang::TypeScript,
            src,
            r#"
            class#0 Base(Parent, I, express.Handler)
            fn#0 _()
              let a = b
              let e = f.g
              let h = i
              let k = m
              let n = o(q)
              other :
                let inner = call()
              def fn#1
              class class#0
              def fn#2
            fn#1 over(a: any) in fn#0
              return a
            fn#2 typed(req: express.Request, res, opt: Options, *rest) in fn#0
            "#,
        );
    }

    #[test]
    fn tsx_with_jsx_keeps_embedded_expressions() {
        let src = r#"
import { useState } from 'react';
export default function Login({ onSubmit }: Props) {
  const [tries, setTries] = useState(0);
  return (
    <form onSubmit={(e) => { setTries(tries + 1); onSubmit(e); }} {...rest}>
      {tries > 5 ? <p className="warn">Too many attempts</p> : null}
      <Button disabled={tries > 5} />
    </form>
  );
}
"#;
        assert_dump(
            Lang::Tsx,
            src,
            r#"
            import useState = react:useState
            export default = Login
            fn#0 _()
              import 0..1
              def fn#1
            fn#1 Login({}: Props {onSubmit->onSubmit}) in fn#0
              let tries = useState(0)[0]
              let setTries = useState(0)[1]
              return ?(fn#2, ...rest, ((tries Gt 5) ? ?() : null), ?((tries Gt 5)))
            fn#2 _(e) in fn#1
              setTries((tries Add 1))
              onSubmit(e)
            "#,
        );
    }

    #[test]
    fn the_three_grammars_lower_alike() {
        let src = "const { ip } = req;\nexport async function f(a, b = 1) { for (const x of xs) { await r.incr(`k:${a}`); } }\n";
        let js = dump(&lower(Lang::JavaScript, src));
        assert_eq!(js, dump(&lower(Lang::TypeScript, src)));
        assert_eq!(js, dump(&lower(Lang::Tsx, src)));
        assert!(js.contains("await r.incr(`k:{a}`)"), "{js}");
    }

    #[test]
    fn spans_cover_their_source_text() {
        let src = r#"
const limiter = async (req, res) => { await store.incr(`rl:${req.ip}`); };
class Guard { static LIMIT = 5; constructor(private redis: Redis) {} static check() { return this.redis.get('k'); } }
module.exports = { limiter };
"#;
        let module = lower(Lang::TypeScript, src);
        for e in &module.exprs {
            let text = &src[e.span.clone()];
            match &e.kind {
                ExprKind::Name(n) => assert_eq!(text, n),
                ExprKind::Str(s) => assert_eq!(&text[1..text.len() - 1], s),
                ExprKind::Call(c) => {
                    let callee = &src[module.expr(c.callee).span.clone()];
                    assert!(text.starts_with(callee), "{text:?} / {callee:?}");
                }
                _ => {}
            }
        }
        let limiter = &module.functions[1];
        assert_eq!(limiter.name.as_deref(), Some("limiter"));
        assert_eq!(&src[limiter.name_span.clone()], "limiter");
        assert!(src[limiter.span.clone()].starts_with("async (req, res) =>"));
        let check = module
            .functions
            .iter()
            .find(|f| f.name.as_deref() == Some("check"))
            .unwrap();
        assert_eq!(&src[check.name_span.clone()], "check");
        assert!(check.is_static && check.class == Some(crate::ir::ClassId(0)));
        let class = &module.classes[0];
        assert_eq!(&src[class.name_span.clone()], "Guard");
        assert!(src[class.span.clone()].starts_with("class Guard"));
        let first = module.stmt(module.functions[0].body[0]);
        assert_eq!(&src[first.span.clone()], src.lines().nth(1).unwrap());
        assert_eq!(
            &src[module.exports[0].span.clone()],
            "module.exports = { limiter };"
        );
    }

    #[test]
    fn syntax_errors_are_counted_and_the_rest_lowered() {
        let src =
            "const ok = store.get(key);\nfunction broken( {\nconst after = store.set(key, 1);\n";
        let module = lower(Lang::JavaScript, src);
        assert!(module.syntax_errors > 0);
        let text = dump(&module);
        assert!(text.contains("let ok = store.get(key)"), "{text}");
        assert!(text.contains("store.set(key, 1)"), "{text}");
    }

    fn assert_deep_input_is_cut_off(lang: Lang, src: &str) {
        let start = Instant::now();
        let module = lower(lang, src);
        let elapsed = start.elapsed();
        assert!(module.truncated, "not truncated");
        assert!(elapsed < Duration::from_secs(2), "took {elapsed:?}");
    }

    #[test]
    fn deep_nesting_is_truncated_quickly_without_overflow() {
        let depth = 5_000;
        let calls = format!("x = {}1{};\n", "f(".repeat(depth), ")".repeat(depth));
        let arrays = format!("x = {}1{};\n", "[".repeat(depth), "]".repeat(depth));
        let arrows = format!("x = {}1;\n", "() => ".repeat(depth));
        let blocks = format!("{}x();{}\n", "if (a) {".repeat(depth), "}".repeat(depth));
        let chain = format!("x = a{};\n", ".b()".repeat(depth));
        let sums = format!("x = a{};\n", " + a".repeat(depth));
        for src in [&calls, &arrays, &arrows, &blocks, &chain, &sums] {
            assert_deep_input_is_cut_off(Lang::JavaScript, src);
        }
        assert_deep_input_is_cut_off(Lang::TypeScript, &calls);
    }

    #[test]
    fn update_and_delete_statements() {
        let module = lower(Lang::JavaScript, "count++; --left; delete cache[ip];\n");
        let kinds: Vec<String> = module.functions[0]
            .body
            .iter()
            .map(|s| match &module.stmt(*s).kind {
                StmtKind::Assign { op, .. } => format!("assign {op:?}"),
                StmtKind::Expr(e) => crate::ir::dump_expr(&module, *e),
                other => format!("{other:?}"),
            })
            .collect();
        assert_eq!(
            kinds,
            ["assign Some(Add)", "assign Some(Sub)", "Delete(cache[ip])"]
        );
    }
}
