//! Lowering of the python grammar family to the IR (see `crate::ir`).
//!
//! One walk over the tree: every node is lowered once, by the function for
//! its kind. Node kinds are matched as `K` values looked up from kind ids
//! once per process (no string comparisons per node). Recursion follows the
//! nesting of blocks and expressions and stops at `MAX_DEPTH` (the module is
//! then `truncated`); long left-leaning operator chains (`a + b + c …`) and
//! `elif` chains are lowered in loops so that their length is not depth.

use super::MAX_DEPTH;
use crate::ir::*;
use std::ops::Range;
use std::sync::OnceLock;
use tree_sitter::{Language, Node, Tree, TreeCursor};

// ---------------------------------------------------------------------------
// Grammar tables

macro_rules! node_kinds {
    (named { $($n:ident = $ns:literal,)* } tokens { $($t:ident = $ts:literal,)* }) => {
        /// The node kinds the lowering tells apart: named nodes, then tokens.
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        enum K {
            $($n,)*
            $($t,)*
            /// An `ERROR` node.
            Error,
            /// Any kind not listed.
            Other,
        }

        /// `K` by tree-sitter kind id.
        fn kind_table(lang: &Language) -> Vec<K> {
            let mut table = vec![K::Other; lang.node_kind_count()];
            $(set_kind(&mut table, lang, $ns, true, K::$n);)*
            $(set_kind(&mut table, lang, $ts, false, K::$t);)*
            table
        }
    };
}

node_kinds! {
    named {
        Comment = "comment",
        LineContinuation = "line_continuation",
        Block = "block",
        ExpressionStatement = "expression_statement",
        Assignment = "assignment",
        AugmentedAssignment = "augmented_assignment",
        ReturnStatement = "return_statement",
        RaiseStatement = "raise_statement",
        PassStatement = "pass_statement",
        BreakStatement = "break_statement",
        ContinueStatement = "continue_statement",
        IfStatement = "if_statement",
        ElifClause = "elif_clause",
        ElseClause = "else_clause",
        ForStatement = "for_statement",
        WhileStatement = "while_statement",
        TryStatement = "try_statement",
        ExceptClause = "except_clause",
        FinallyClause = "finally_clause",
        WithStatement = "with_statement",
        WithClause = "with_clause",
        WithItem = "with_item",
        AsPattern = "as_pattern",
        FunctionDefinition = "function_definition",
        ClassDefinition = "class_definition",
        DecoratedDefinition = "decorated_definition",
        Decorator = "decorator",
        ImportStatement = "import_statement",
        ImportFromStatement = "import_from_statement",
        FutureImportStatement = "future_import_statement",
        AliasedImport = "aliased_import",
        DottedName = "dotted_name",
        WildcardImport = "wildcard_import",
        GlobalStatement = "global_statement",
        NonlocalStatement = "nonlocal_statement",
        DeleteStatement = "delete_statement",
        AssertStatement = "assert_statement",
        PrintStatement = "print_statement",
        ExecStatement = "exec_statement",
        MatchStatement = "match_statement",
        CaseClause = "case_clause",
        TypeAliasStatement = "type_alias_statement",
        Identifier = "identifier",
        True = "true",
        False = "false",
        None = "none",
        Integer = "integer",
        Float = "float",
        String = "string",
        ConcatenatedString = "concatenated_string",
        StringStart = "string_start",
        StringEnd = "string_end",
        Interpolation = "interpolation",
        Attribute = "attribute",
        Subscript = "subscript",
        Slice = "slice",
        Call = "call",
        ArgumentList = "argument_list",
        KeywordArgument = "keyword_argument",
        GeneratorExpression = "generator_expression",
        List = "list",
        ListPattern = "list_pattern",
        Tuple = "tuple",
        TuplePattern = "tuple_pattern",
        ExpressionList = "expression_list",
        PatternList = "pattern_list",
        Set = "set",
        Dictionary = "dictionary",
        Pair = "pair",
        DictionarySplat = "dictionary_splat",
        ListComprehension = "list_comprehension",
        SetComprehension = "set_comprehension",
        DictionaryComprehension = "dictionary_comprehension",
        ForInClause = "for_in_clause",
        IfClause = "if_clause",
        BooleanOperator = "boolean_operator",
        BinaryOperator = "binary_operator",
        ComparisonOperator = "comparison_operator",
        NotOperator = "not_operator",
        UnaryOperator = "unary_operator",
        ConditionalExpression = "conditional_expression",
        NamedExpression = "named_expression",
        Lambda = "lambda",
        Await = "await",
        Yield = "yield",
        ListSplat = "list_splat",
        ListSplatPattern = "list_splat_pattern",
        DictionarySplatPattern = "dictionary_splat_pattern",
        ParenthesizedListSplat = "parenthesized_list_splat",
        ParenthesizedExpression = "parenthesized_expression",
        Type = "type",
        GenericType = "generic_type",
        TypedParameter = "typed_parameter",
        DefaultParameter = "default_parameter",
        TypedDefaultParameter = "typed_default_parameter",
    }
    tokens {
        Async = "async",
        And = "and",
        Or = "or",
        Plus = "+",
        Minus = "-",
        Star = "*",
        Slash = "/",
        DoubleSlash = "//",
        Percent = "%",
        DoubleStar = "**",
        Lt = "<",
        LtE = "<=",
        Gt = ">",
        GtE = ">=",
        EqEq = "==",
        NotEq = "!=",
        LtGt = "<>",
        In = "in",
        NotIn = "not in",
        Is = "is",
        IsNot = "is not",
        PlusEq = "+=",
        MinusEq = "-=",
        StarEq = "*=",
        SlashEq = "/=",
        DoubleSlashEq = "//=",
        PercentEq = "%=",
        DoubleStarEq = "**=",
    }
}

fn set_kind(table: &mut [K], lang: &Language, name: &str, named: bool, kind: K) {
    let id = lang.id_for_node_kind(name, named);
    debug_assert!(id != 0, "the python grammar has no {name:?} node");
    table[id as usize] = kind;
}

macro_rules! field_ids {
    ($($f:ident = $name:literal,)*) => {
        /// Field ids of the python grammar.
        struct Fields { $($f: u16,)* }
        impl Fields {
            fn load(lang: &Language) -> Self {
                Self { $($f: field_id(lang, $name),)* }
            }
        }
    };
}

field_ids! {
    alias = "alias",
    alternative = "alternative",
    argument = "argument",
    arguments = "arguments",
    attribute = "attribute",
    body = "body",
    cause = "cause",
    condition = "condition",
    consequence = "consequence",
    definition = "definition",
    expression = "expression",
    function = "function",
    guard = "guard",
    key = "key",
    left = "left",
    module_name = "module_name",
    name = "name",
    object = "object",
    operator = "operator",
    parameters = "parameters",
    right = "right",
    superclasses = "superclasses",
    type_ = "type",
    value = "value",
}

fn field_id(lang: &Language, name: &str) -> u16 {
    let id = lang.field_id_for_name(name).map_or(0, |f| f.get());
    debug_assert!(id != 0, "the python grammar has no field {name:?}");
    id
}

struct Grammar {
    kinds: Vec<K>,
    f: Fields,
}

fn grammar() -> &'static Grammar {
    static GRAMMAR: OnceLock<Grammar> = OnceLock::new();
    GRAMMAR.get_or_init(|| {
        let lang: Language = tree_sitter_python::LANGUAGE.into();
        Grammar {
            kinds: kind_table(&lang),
            f: Fields::load(&lang),
        }
    })
}

impl K {
    /// Kinds that are statements (for error recovery, which mixes
    /// statements and expressions under one node).
    fn is_statement(self) -> bool {
        matches!(
            self,
            K::ExpressionStatement
                | K::ReturnStatement
                | K::RaiseStatement
                | K::PassStatement
                | K::BreakStatement
                | K::ContinueStatement
                | K::IfStatement
                | K::ForStatement
                | K::WhileStatement
                | K::TryStatement
                | K::WithStatement
                | K::FunctionDefinition
                | K::ClassDefinition
                | K::DecoratedDefinition
                | K::ImportStatement
                | K::ImportFromStatement
                | K::FutureImportStatement
                | K::GlobalStatement
                | K::NonlocalStatement
                | K::DeleteStatement
                | K::AssertStatement
                | K::PrintStatement
                | K::ExecStatement
                | K::MatchStatement
                | K::TypeAliasStatement
        )
    }
}

// ---------------------------------------------------------------------------
// Entry point

pub fn lower(text: &str, tree: &Tree) -> Module {
    let root = tree.root_node();
    let mut lowerer = Lowerer {
        text,
        g: grammar(),
        m: Module::default(),
        func: Module::TOP,
        self_is_this: false,
        depth: 0,
        cursors: Vec::new(),
    };
    lowerer
        .m
        .functions
        .push(Function::module_code(0..text.len()));
    let mut body = Vec::new();
    lowerer.each_child(root, |this, child| this.stmt(child, &mut body));
    lowerer.m.functions[0].body = body;
    lowerer.m.syntax_errors = count_syntax_errors(root);
    lowerer.m
}

/// ERROR and MISSING nodes, visiting only subtrees that contain one
/// (iterative: no recursion on deep trees).
fn count_syntax_errors(root: Node) -> u32 {
    if !root.has_error() {
        return 0;
    }
    let mut cursor = root.walk();
    let mut count = 0;
    loop {
        let node = cursor.node();
        if node.is_error() || node.is_missing() {
            count += 1;
        }
        if node.has_error() && cursor.goto_first_child() {
            continue;
        }
        while !cursor.goto_next_sibling() {
            if !cursor.goto_parent() {
                return count;
            }
        }
    }
}

struct Lowerer<'t> {
    text: &'t str,
    g: &'static Grammar,
    m: Module,
    /// The function whose body is being lowered.
    func: FuncId,
    /// `self` is the instance: inside a method whose first parameter is
    /// `self` (and in closures within it).
    self_is_this: bool,
    /// Current nesting of blocks and expressions.
    depth: usize,
    /// Spare cursors for iterating children (saves an allocation per node).
    cursors: Vec<TreeCursor<'t>>,
}

// ---------------------------------------------------------------------------
// Helpers

impl<'t> Lowerer<'t> {
    fn kind(&self, node: Node) -> K {
        match self.g.kinds.get(node.kind_id() as usize) {
            Some(k) => *k,
            None if node.is_error() => K::Error,
            None => K::Other,
        }
    }

    fn text(&self, node: Node) -> &'t str {
        self.text.get(node.byte_range()).unwrap_or("")
    }

    fn field(&self, node: Node<'t>, field: u16) -> Option<Node<'t>> {
        node.child_by_field_id(field)
    }

    fn field_text(&self, node: Node<'t>, field: u16) -> String {
        self.field(node, field)
            .map(|n| self.text(n).to_string())
            .unwrap_or_default()
    }

    fn add_expr(&mut self, kind: ExprKind, span: Span) -> ExprId {
        self.m.exprs.push(Expr { kind, span });
        ExprId(self.m.exprs.len() as u32 - 1)
    }

    fn add_stmt(&mut self, kind: StmtKind, span: Span) -> StmtId {
        self.m.stmts.push(Stmt { kind, span });
        StmtId(self.m.stmts.len() as u32 - 1)
    }

    fn add_function(&mut self, function: Function) -> FuncId {
        self.m.functions.push(function);
        FuncId(self.m.functions.len() as u32 - 1)
    }

    fn function_mut(&mut self, id: FuncId) -> &mut Function {
        &mut self.m.functions[id.index()]
    }

    /// Go one level deeper, or mark the module truncated and refuse.
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

    /// Calls `f` on each child but comments, tokens included. (Not "each
    /// non-extra child": error recovery marks ERROR nodes extra.)
    fn each_node(&mut self, node: Node<'t>, mut f: impl FnMut(&mut Self, Node<'t>)) {
        let mut cursor = self.cursors.pop().unwrap_or_else(|| node.walk());
        cursor.reset(node);
        if cursor.goto_first_child() {
            loop {
                let child = cursor.node();
                if !matches!(self.kind(child), K::Comment | K::LineContinuation) {
                    f(self, child);
                }
                if !cursor.goto_next_sibling() {
                    break;
                }
            }
        }
        self.cursors.push(cursor);
    }

    /// Calls `f` on each named child but comments.
    fn each_child(&mut self, node: Node<'t>, mut f: impl FnMut(&mut Self, Node<'t>)) {
        self.each_node(node, |this, child| {
            if child.is_named() {
                f(this, child)
            }
        });
    }

    fn children(&mut self, node: Node<'t>) -> Vec<Node<'t>> {
        let mut out = Vec::new();
        self.each_child(node, |_, child| out.push(child));
        out
    }

    fn first_child(&mut self, node: Node<'t>) -> Option<Node<'t>> {
        let mut first = None;
        self.each_child(node, |_, child| {
            first.get_or_insert(child);
        });
        first
    }

    fn has_async(&self, node: Node<'t>) -> bool {
        node.child(0).is_some_and(|c| self.kind(c) == K::Async)
    }

    /// `(x)` is `x`; an annotation's `type` is its expression, and a
    /// generic type (`Optional[Request]`) its name.
    fn unwrap(&mut self, mut node: Node<'t>) -> Node<'t> {
        while matches!(
            self.kind(node),
            K::ParenthesizedExpression | K::Type | K::GenericType | K::ParenthesizedListSplat
        ) {
            match self.first_child(node) {
                Some(inner) => node = inner,
                None => break,
            }
        }
        node
    }
}

// ---------------------------------------------------------------------------
// Statements

impl<'t> Lowerer<'t> {
    /// The statements of a block (or of any node holding statements).
    fn block(&mut self, node: Option<Node<'t>>) -> Vec<StmtId> {
        let mut out = Vec::new();

        if let Some(node) = node {
            if self.enter() {
                self.each_child(node, |this, child| this.stmt(child, &mut out));
                self.leave();
            }
        }
        out
    }

    fn stmt(&mut self, node: Node<'t>, out: &mut Vec<StmtId>) {
        let kind = match self.kind(node) {
            K::ExpressionStatement => return self.expression_statement(node, out),
            K::ReturnStatement
            | K::RaiseStatement
            | K::PassStatement
            | K::BreakStatement
            | K::ContinueStatement
            | K::ImportStatement
            | K::ImportFromStatement
            | K::FutureImportStatement
            | K::GlobalStatement
            | K::NonlocalStatement
            | K::DeleteStatement => self.simple_statement(node),
            K::IfStatement => self.if_statement(node),
            K::ForStatement => self.for_statement(node),
            K::WhileStatement => self.while_statement(node),
            K::TryStatement => self.try_statement(node),
            K::WithStatement => self.with_statement(node),
            K::FunctionDefinition | K::ClassDefinition | K::DecoratedDefinition => {
                self.definition(node, None)
            }
            K::MatchStatement => self.match_statement(node),
            _ => self.other_stmt(node),
        };
        let id = self.add_stmt(kind, node.byte_range());
        out.push(id);
    }

    /// Statements without a block. (Kept out of `stmt`, whose frame recurs:
    /// debug builds reserve stack for every arm's temporaries.)
    fn simple_statement(&mut self, node: Node<'t>) -> StmtKind {
        match self.kind(node) {
            K::ReturnStatement => StmtKind::Return(self.first_child_expr(node)),
            K::RaiseStatement => StmtKind::Raise(self.raised(node)),
            K::ImportStatement | K::ImportFromStatement | K::FutureImportStatement => {
                StmtKind::Import(self.imports(node))
            }
            K::GlobalStatement | K::NonlocalStatement => StmtKind::Global(self.names(node)),
            K::DeleteStatement => StmtKind::Delete(self.deleted(node)),
            _ => StmtKind::Jump,
        }
    }

    /// Statements the IR does not model (assert, print, exec, type alias)
    /// and error recovery: the expressions and statements found inside.
    fn other_stmt(&mut self, node: Node<'t>) -> StmtKind {
        let (mut exprs, mut stmts) = (Vec::new(), Vec::new());
        let kind = self.kind(node);
        if !kind.is_statement() && !matches!(kind, K::Error | K::Block) {
            // An expression where recovery expected a statement.
            exprs.push(self.expr(node));
        } else if self.enter() {
            self.each_child(node, |this, child| match this.kind(child) {
                K::Block => stmts.extend(this.block(Some(child))),
                k if k.is_statement() || k == K::Error => this.stmt(child, &mut stmts),
                _ => exprs.push(this.expr(child)),
            });
            self.leave();
        }
        StmtKind::Other(exprs, stmts)
    }

    fn expression_statement(&mut self, node: Node<'t>, out: &mut Vec<StmtId>) {
        let span = node.byte_range();
        let children = self.children(node);
        let kind = match children.as_slice() {
            [] => return,
            [one] if self.kind(*one) == K::Assignment => {
                return self.assignment(*one, span, out);
            }
            [one] if self.kind(*one) == K::AugmentedAssignment => self.augmented(*one),
            [one] => StmtKind::Expr(self.expr(*one)),
            // `a, b` as a statement: a tuple.
            many => {
                let items = many.iter().map(|c| self.expr(*c)).collect();
                StmtKind::Expr(self.add_expr(ExprKind::Tuple(items), span.clone()))
            }
        };
        let id = self.add_stmt(kind, span);
        out.push(id);
    }

    /// `a = v`, `a = b = v` (every target gets the same value), `x: T = v`
    /// (declares; `x: T` alone has no statement), destructuring.
    fn assignment(&mut self, node: Node<'t>, span: Span, out: &mut Vec<StmtId>) {
        let f = &self.g.f;
        let declares = self.field(node, f.type_).is_some();
        let mut targets = Vec::new();
        let mut current = node;
        let value = loop {
            targets.extend(self.field(current, f.left));
            match self.field(current, f.right) {
                Some(right) if self.kind(right) == K::Assignment => current = right,
                right => break right,
            }
        };
        let Some(value) = value else { return };
        let value = self.expr(value);
        for target in targets {
            self.bind(target, value, declares, &span, out);
        }
    }

    /// One `Assign` per bound name; a tuple or list target binds each
    /// element to `value[i]` (`*rest` to a slice).
    fn bind(
        &mut self,
        target: Node<'t>,
        value: ExprId,
        declares: bool,
        span: &Span,
        out: &mut Vec<StmtId>,
    ) {
        let target = self.unwrap(target);
        match self.kind(target) {
            K::PatternList
            | K::TuplePattern
            | K::ListPattern
            | K::Tuple
            | K::List
            | K::ExpressionList => self.bind_elements(target, value, declares, span, out),
            _ => {
                let target = self.expr(target);
                let assign = StmtKind::Assign {
                    target,
                    value,
                    op: None,
                    declares,
                };
                let id = self.add_stmt(assign, span.clone());
                out.push(id);
            }
        }
    }

    fn bind_elements(
        &mut self,
        target: Node<'t>,
        value: ExprId,
        declares: bool,
        span: &Span,
        out: &mut Vec<StmtId>,
    ) {
        if !self.enter() {
            return;
        }
        let elements = self.children(target);
        let star = elements
            .iter()
            .position(|e| matches!(self.kind(*e), K::ListSplatPattern | K::ListSplat));
        let value_span = self.m.expr(value).span.clone();
        for (i, &element) in elements.iter().enumerate() {
            let index = self.element_index(i, star, elements.len(), &value_span);
            let item = self.add_expr(
                ExprKind::Subscript { obj: value, index },
                value_span.clone(),
            );
            let element = if Some(i) == star {
                self.first_child(element).unwrap_or(element)
            } else {
                element
            };
            self.bind(element, item, declares, span, out);
        }
        self.leave();
    }

    /// The index of element `i` of `len` when `star` is the `*rest`
    /// position: `i` before it, `i:-after` for it, negative after it.
    fn element_index(&mut self, i: usize, star: Option<usize>, len: usize, span: &Span) -> ExprId {
        let num = |this: &mut Self, n: i64| this.add_expr(ExprKind::Num(n as f64), span.clone());
        let kind = match star {
            Some(s) if i == s => {
                let start = num(self, i as i64);
                let after = len - i - 1;
                let end = (after > 0).then(|| num(self, -(after as i64)));
                ExprKind::Slice(vec![Some(start), end])
            }
            Some(s) if i > s => ExprKind::Num(-((len - i) as f64)),
            _ => ExprKind::Num(i as f64),
        };
        self.add_expr(kind, span.clone())
    }

    fn augmented(&mut self, node: Node<'t>) -> StmtKind {
        let f = &self.g.f;
        let op = self.field(node, f.operator).map(|o| self.kind(o));
        let op = match op {
            Some(K::PlusEq) => BinOp::Add,
            Some(K::MinusEq) => BinOp::Sub,
            Some(K::StarEq) => BinOp::Mul,
            Some(K::SlashEq) => BinOp::Div,
            Some(K::DoubleSlashEq) => BinOp::FloorDiv,
            Some(K::PercentEq) => BinOp::Mod,
            Some(K::DoubleStarEq) => BinOp::Pow,
            // Bitwise and shifts: Python has no logical `||=`.
            _ => BinOp::Other,
        };
        StmtKind::Assign {
            target: self.field_expr(node, f.left),
            value: self.field_expr(node, f.right),
            op: Some(op),
            declares: false,
        }
    }

    fn raised(&mut self, node: Node<'t>) -> Option<ExprId> {
        // `raise X from e`: the cause is not what is raised.
        let cause = self.field(node, self.g.f.cause);
        let raised = self
            .children(node)
            .into_iter()
            .find(|c| Some(*c) != cause)?;
        Some(self.expr(raised))
    }

    fn if_statement(&mut self, node: Node<'t>) -> StmtKind {
        let f = &self.g.f;
        let cond = self.field_expr(node, f.condition);
        let then = self.block(self.field(node, f.consequence));
        let mut elifs = Vec::new();
        let mut otherwise = Vec::new();
        self.each_child(node, |this, child| match this.kind(child) {
            K::ElifClause => {
                let cond = this.field_expr(child, this.g.f.condition);
                let then = this.block(this.field(child, this.g.f.consequence));
                elifs.push((child.start_byte(), cond, then));
            }
            K::ElseClause => otherwise = this.block(this.field(child, this.g.f.body)),
            _ => {}
        });
        let otherwise = self.nest_elifs(elifs, otherwise, node.end_byte());
        StmtKind::If {
            cond,
            then,
            otherwise,
        }
    }

    /// `elif` chains nest, each as the only statement of the previous
    /// `otherwise`. Beyond `MAX_DEPTH` the rest of the chain is one flat
    /// `Other` (conditions and statements kept, branching lost).
    fn nest_elifs(
        &mut self,
        mut elifs: Vec<(usize, ExprId, Vec<StmtId>)>,
        mut otherwise: Vec<StmtId>,
        end: usize,
    ) -> Vec<StmtId> {
        let room = MAX_DEPTH.saturating_sub(self.depth);
        if elifs.len() > room {
            self.m.truncated = true;
            let rest = elifs.split_off(room);
            let start = rest[0].0;
            let mut conds = Vec::new();
            let mut stmts = Vec::new();
            for (_, cond, then) in rest {
                conds.push(cond);
                stmts.extend(then);
            }
            stmts.append(&mut otherwise);
            otherwise = vec![self.add_stmt(StmtKind::Other(conds, stmts), start..end)];
        }
        for (start, cond, then) in elifs.into_iter().rev() {
            let nested = StmtKind::If {
                cond,
                then,
                otherwise,
            };
            otherwise = vec![self.add_stmt(nested, start..end)];
        }
        otherwise
    }

    fn for_statement(&mut self, node: Node<'t>) -> StmtKind {
        let f = &self.g.f;
        StmtKind::Loop {
            target: Some(self.field_expr(node, f.left)),
            iter: Some(self.field_expr(node, f.right)),
            body: self.block(self.field(node, f.body)),
            otherwise: self.else_block(node),
            is_while: false,
        }
    }

    fn while_statement(&mut self, node: Node<'t>) -> StmtKind {
        let f = &self.g.f;
        StmtKind::Loop {
            target: None,
            iter: Some(self.field_expr(node, f.condition)),
            body: self.block(self.field(node, f.body)),
            otherwise: self.else_block(node),
            is_while: true,
        }
    }

    /// The `else:` block of a loop.
    fn else_block(&mut self, node: Node<'t>) -> Vec<StmtId> {
        let clause = self.field(node, self.g.f.alternative);
        let clause = clause.filter(|c| self.kind(*c) == K::ElseClause);
        match clause {
            Some(clause) => self.block(self.field(clause, self.g.f.body)),
            None => Vec::new(),
        }
    }

    fn try_statement(&mut self, node: Node<'t>) -> StmtKind {
        let body = self.block(self.field(node, self.g.f.body));
        let mut handlers = Vec::new();
        let mut otherwise = Vec::new();
        let mut finally = Vec::new();
        self.each_child(node, |this, child| match this.kind(child) {
            K::ExceptClause => handlers.push(this.handler(child)),
            K::ElseClause => otherwise = this.block(this.field(child, this.g.f.body)),
            K::FinallyClause => {
                let block = this
                    .children(child)
                    .into_iter()
                    .find(|c| this.kind(*c) == K::Block);
                finally = this.block(block);
            }
            _ => {}
        });
        StmtKind::Try {
            body,
            handlers,
            otherwise,
            finally,
        }
    }

    /// `except (A, B) as e:` / `except A:` / bare `except:` / Python 2
    /// `except A, e:`.
    fn handler(&mut self, node: Node<'t>) -> Handler {
        let alias = self.field(node, self.g.f.alias);
        let mut types = Vec::new();
        let mut name = alias.map(|a| self.text(a).to_string());
        let mut body = Vec::new();
        self.each_child(node, |this, child| match this.kind(child) {
            _ if Some(child) == alias => {}
            K::Block => body = this.block(Some(child)),
            K::AsPattern => {
                let (caught, target) = this.as_pattern(child);
                if let Some(caught) = caught {
                    this.caught_types(caught, &mut types);
                }
                name = target.map(|t| this.text(t).to_string());
            }
            _ => this.caught_types(child, &mut types),
        });
        Handler {
            types,
            name,
            body,
            span: node.byte_range(),
        }
    }

    /// Each type of `(A, B)`, or the one type.
    fn caught_types(&mut self, node: Node<'t>, out: &mut Vec<ExprId>) {
        let node = self.unwrap(node);
        if self.kind(node) == K::Tuple {
            self.each_child(node, |this, item| out.push(this.expr(item)));
        } else {
            out.push(self.expr(node));
        }
    }

    /// `value as target`: the value node and the target's inner node.
    fn as_pattern(&mut self, node: Node<'t>) -> (Option<Node<'t>>, Option<Node<'t>>) {
        let alias = self.field(node, self.g.f.alias);
        let value = self.first_child(node).filter(|v| Some(*v) != alias);
        let target = alias.map(|a| self.first_child(a).unwrap_or(a));
        (value, target)
    }

    fn with_statement(&mut self, node: Node<'t>) -> StmtKind {
        let mut items = Vec::new();
        self.each_child(node, |this, child| {
            if this.kind(child) == K::WithClause {
                this.each_child(child, |this, item| items.push(this.with_item(item)));
            }
        });
        StmtKind::With {
            items,
            body: self.block(self.field(node, self.g.f.body)),
            is_async: self.has_async(node),
        }
    }

    fn with_item(&mut self, item: Node<'t>) -> (ExprId, Option<ExprId>) {
        let value = self.field(item, self.g.f.value).unwrap_or(item);
        if self.kind(value) != K::AsPattern {
            return (self.expr(value), None);
        }
        let (context, target) = self.as_pattern(value);
        let context = self.expr_or_unknown(context, value);
        let target = target.map(|t| self.expr(t));
        (context, target)
    }

    fn names(&mut self, node: Node<'t>) -> Vec<String> {
        let mut names = Vec::new();
        self.each_child(node, |this, child| names.push(this.text(child).to_string()));
        names
    }

    fn deleted(&mut self, node: Node<'t>) -> Vec<ExprId> {
        let mut items = Vec::new();
        self.each_child(node, |this, child| {
            if this.kind(child) == K::ExpressionList {
                this.each_child(child, |this, item| items.push(this.expr(item)));
            } else {
                items.push(this.expr(child));
            }
        });
        items
    }

    /// `match`: the subject and case guards as expressions, the case bodies'
    /// statements in order (patterns are dropped).
    fn match_statement(&mut self, node: Node<'t>) -> StmtKind {
        let body = self.field(node, self.g.f.body);
        let (mut exprs, mut stmts) = (Vec::new(), Vec::new());
        if !self.enter() {
            return StmtKind::Other(exprs, stmts);
        }
        self.each_child(node, |this, child| {
            if Some(child) != body {
                exprs.push(this.expr(child));
            }
        });
        if let Some(body) = body {
            self.each_child(body, |this, case| {
                if this.kind(case) != K::CaseClause {
                    return;
                }
                if let Some(guard) = this.field(case, this.g.f.guard) {
                    exprs.push(
                        this.first_child_expr(guard)
                            .unwrap_or_else(|| this.expr(guard)),
                    );
                }
                stmts.extend(this.block(this.field(case, this.g.f.consequence)));
            });
        }
        self.leave();
        StmtKind::Other(exprs, stmts)
    }
}

// ---------------------------------------------------------------------------
// Functions, classes, imports

impl<'t> Lowerer<'t> {
    /// A `def`, `class` or decorated one. `class` is the class whose body
    /// holds it directly (a method).
    fn definition(&mut self, node: Node<'t>, class: Option<ClassId>) -> StmtKind {
        let (def, decorators) = if self.kind(node) == K::DecoratedDefinition {
            let decorators = self.decorators(node);
            (self.field(node, self.g.f.definition), decorators)
        } else {
            (Some(node), Vec::new())
        };
        match def.map(|d| (d, self.kind(d))) {
            Some((def, K::FunctionDefinition)) => {
                StmtKind::FunctionDef(self.function(def, node, decorators, class))
            }
            Some((def, K::ClassDefinition)) => {
                StmtKind::ClassDef(self.class(def, node, decorators))
            }
            _ => StmtKind::Other(decorators, Vec::new()),
        }
    }

    /// Decorator expressions, outermost (first written) first.
    fn decorators(&mut self, node: Node<'t>) -> Vec<ExprId> {
        let mut out = Vec::new();
        self.each_child(node, |this, child| {
            if this.kind(child) == K::Decorator {
                if let Some(e) = this.first_child_expr(child) {
                    out.push(e);
                }
            }
        });
        out
    }

    /// `def`: decorators, parameter defaults and annotations belong to the
    /// enclosing function; the body to the new one.
    fn function(
        &mut self,
        def: Node<'t>,
        whole: Node<'t>,
        decorators: Vec<ExprId>,
        class: Option<ClassId>,
    ) -> FuncId {
        let name = self.field(def, self.g.f.name);
        let params = self.params(self.field(def, self.g.f.parameters));
        let is_static = decorators.iter().any(|d| {
            matches!(&self.m.expr(*d).kind,
                ExprKind::Name(n) if n == "staticmethod" || n == "classmethod")
        });
        let self_is_this = match class {
            Some(_) => !is_static && params.first().is_some_and(|p| p.name == "self"),
            None => self.self_is_this && !binds_self(&params),
        };
        let id = self.add_function(Function {
            name: name.map(|n| self.text(n).to_string()),
            kind: FunctionKind::Def,
            span: whole.byte_range(),
            name_span: name.unwrap_or(def).byte_range(),
            params,
            body: Vec::new(),
            is_async: self.has_async(def),
            is_generator: false,
            parent: Some(self.func),
            class,
            decorators,
            is_static,
        });
        let body = self.field(def, self.g.f.body);
        let body = self.in_function(id, self_is_this, |this| this.block(body));
        self.function_mut(id).body = body;
        id
    }

    /// `lambda params: body`, a function whose body is one `Return`.
    fn lambda(&mut self, node: Node<'t>) -> ExprKind {
        let params = self.params(self.field(node, self.g.f.parameters));
        let self_is_this = self.self_is_this && !binds_self(&params);
        let keyword = node.child(0).unwrap_or(node);
        let id = self.add_function(Function {
            name: None,
            kind: FunctionKind::Lambda,
            span: node.byte_range(),
            name_span: keyword.byte_range(),
            params,
            body: Vec::new(),
            is_async: false,
            is_generator: false,
            parent: Some(self.func),
            class: None,
            decorators: Vec::new(),
            is_static: false,
        });
        let body = self.field(node, self.g.f.body);
        let ret = self.in_function(id, self_is_this, |this| {
            let value = this.expr_or_unknown(body, node);
            let span = this.m.expr(value).span.clone();
            this.add_stmt(StmtKind::Return(Some(value)), span)
        });
        self.function_mut(id).body = vec![ret];
        ExprKind::Function(id)
    }

    fn in_function<R>(
        &mut self,
        id: FuncId,
        self_is_this: bool,
        f: impl FnOnce(&mut Self) -> R,
    ) -> R {
        let saved = (self.func, self.self_is_this);
        (self.func, self.self_is_this) = (id, self_is_this);
        let result = f(self);
        (self.func, self.self_is_this) = saved;
        result
    }

    fn params(&mut self, node: Option<Node<'t>>) -> Vec<Param> {
        let mut params = Vec::new();
        if let Some(node) = node {
            self.each_child(node, |this, child| params.extend(this.param(child)));
        }
        params
    }

    fn param(&mut self, node: Node<'t>) -> Option<Param> {
        let f = &self.g.f;
        let (name, annotation, default) = match self.kind(node) {
            K::Identifier | K::ListSplatPattern | K::DictionarySplatPattern => (node, None, None),
            // The name of `x: T` / `*args: T` is its first child.
            K::TypedParameter => (self.first_child(node)?, self.field(node, f.type_), None),
            K::DefaultParameter => (self.field(node, f.name)?, None, self.field(node, f.value)),
            K::TypedDefaultParameter => (
                self.field(node, f.name)?,
                self.field(node, f.type_),
                self.field(node, f.value),
            ),
            // `*` and `/` separators.
            _ => return None,
        };
        let rest = matches!(
            self.kind(name),
            K::ListSplatPattern | K::DictionarySplatPattern
        );
        let name = if rest {
            self.first_child(name).unwrap_or(name)
        } else {
            name
        };
        Some(Param {
            name: self.text(name).to_string(),
            span: node.byte_range(),
            annotation: annotation.map(|a| self.expr(a)),
            default: default.map(|d| self.expr(d)),
            rest,
            decorators: Vec::new(),
            destructured: Vec::new(),
        })
    }

    /// A class: positional bases (keywords such as `metaclass=` dropped),
    /// methods (the `def`s directly in its body) and other body statements.
    fn class(&mut self, def: Node<'t>, whole: Node<'t>, decorators: Vec<ExprId>) -> ClassId {
        let name = self.field(def, self.g.f.name);
        let mut bases = Vec::new();
        if let Some(list) = self.field(def, self.g.f.superclasses) {
            self.each_child(list, |this, base| {
                if this.kind(base) != K::KeywordArgument {
                    bases.push(this.expr(base));
                }
            });
        }
        self.m.classes.push(Class {
            name: name.map(|n| self.text(n).to_string()),
            span: whole.byte_range(),
            name_span: name.unwrap_or(def).byte_range(),
            bases,
            decorators,
            methods: Vec::new(),
            body: Vec::new(),
            function: self.func,
        });
        let id = ClassId(self.m.classes.len() as u32 - 1);
        if let Some(block) = self.field(def, self.g.f.body) {
            self.class_body(id, block);
        }
        id
    }

    fn class_body(&mut self, id: ClassId, block: Node<'t>) {
        if !self.enter() {
            return;
        }
        let (mut methods, mut body) = (Vec::new(), Vec::new());
        self.each_child(block, |this, child| match this.kind(child) {
            K::FunctionDefinition | K::DecoratedDefinition => {
                match this.definition(child, Some(id)) {
                    StmtKind::FunctionDef(f) => methods.push(f),
                    other => body.push(this.add_stmt(other, child.byte_range())),
                }
            }
            _ => this.stmt(child, &mut body),
        });
        self.leave();
        let class = &mut self.m.classes[id.index()];
        class.methods = methods;
        class.body = body;
    }

    /// The bindings of an import statement, added to `Module::imports`.
    fn imports(&mut self, node: Node<'t>) -> Range<usize> {
        let start = self.m.imports.len();
        let module = match self.kind(node) {
            K::ImportStatement => None,
            K::FutureImportStatement => Some("__future__".to_string()),
            _ => Some(
                self.field(node, self.g.f.module_name)
                    .map(|m| compact(self.text(m)))
                    .unwrap_or_default(),
            ),
        };
        let module_node = self.field(node, self.g.f.module_name);
        self.each_child(node, |this, child| {
            if Some(child) != module_node {
                this.import_binding(child, module.as_deref());
            }
        });
        start..self.m.imports.len()
    }

    /// One binding: `a.b` / `a.b as c` after `import`, or `y` / `y as z` /
    /// `*` after `from m import`.
    fn import_binding(&mut self, node: Node<'t>, from: Option<&str>) {
        let (path, alias) = match self.kind(node) {
            K::DottedName => (compact(self.text(node)), None),
            K::AliasedImport => (
                self.field(node, self.g.f.name)
                    .map(|n| compact(self.text(n)))
                    .unwrap_or_default(),
                Some(self.field_text(node, self.g.f.alias)),
            ),
            K::WildcardImport => ("*".to_string(), None),
            _ => return,
        };
        let (module, name, local) = match from {
            Some(module) => {
                let local = alias.unwrap_or_else(|| path.clone());
                (module.to_string(), Some(path), local)
            }
            None => {
                // `import a.b` binds `a`.
                let local = alias.unwrap_or_else(|| path.split('.').next().unwrap_or("").into());
                (path, None, local)
            }
        };
        self.m.imports.push(Import {
            module,
            name,
            local,
            span: node.byte_range(),
            function: self.func,
        });
    }
}

/// A parameter list that rebinds `self` (a nested function's own `self`).
fn binds_self(params: &[Param]) -> bool {
    params.iter().any(|p| p.name == "self")
}

/// A dotted name as written but without the spaces Python allows in it.
fn compact(text: &str) -> String {
    text.split_whitespace().collect()
}

// ---------------------------------------------------------------------------
// Expressions

impl<'t> Lowerer<'t> {
    fn expr(&mut self, node: Node<'t>) -> ExprId {
        let node = self.unwrap(node);
        if !self.enter() {
            return self.add_expr(ExprKind::Unknown(Vec::new()), node.byte_range());
        }
        let kind = self.expr_kind(node);
        self.leave();
        self.add_expr(kind, node.byte_range())
    }

    /// A field's expression, `Unknown` (empty, at the node's end) when
    /// error recovery left it out.
    fn field_expr(&mut self, node: Node<'t>, field: u16) -> ExprId {
        let child = self.field(node, field);
        self.expr_or_unknown(child, node)
    }

    fn expr_or_unknown(&mut self, child: Option<Node<'t>>, parent: Node<'t>) -> ExprId {
        match child {
            Some(child) => self.expr(child),
            None => {
                let end = parent.end_byte();
                self.add_expr(ExprKind::Unknown(Vec::new()), end..end)
            }
        }
    }

    fn first_child_expr(&mut self, node: Node<'t>) -> Option<ExprId> {
        let child = self.first_child(node)?;
        Some(self.expr(child))
    }

    fn child_exprs(&mut self, node: Node<'t>) -> Vec<ExprId> {
        let mut out = Vec::new();
        self.each_child(node, |this, child| out.push(this.expr(child)));
        out
    }

    /// Every arm is one call: debug builds reserve stack for every arm's
    /// temporaries, and this frame recurs.
    fn expr_kind(&mut self, node: Node<'t>) -> ExprKind {
        match self.kind(node) {
            K::Identifier => self.name(node),
            K::True | K::False | K::None | K::Integer | K::Float => self.constant(node),
            K::String | K::ConcatenatedString => self.string(node),
            K::Attribute => self.attribute(node),
            K::Subscript => self.subscript(node),
            K::Slice => self.slice(node),
            K::Call => self.call(node),
            K::List
            | K::ListPattern
            | K::Tuple
            | K::TuplePattern
            | K::ExpressionList
            | K::PatternList
            | K::Set => self.sequence(node),
            K::Dictionary => self.dictionary(node),
            K::ListComprehension
            | K::SetComprehension
            | K::GeneratorExpression
            | K::DictionaryComprehension => self.comprehension(node),
            K::BooleanOperator | K::BinaryOperator => self.operator_chain(node),
            K::ComparisonOperator => self.comparison(node),
            K::NotOperator | K::UnaryOperator => self.unary(node),
            K::ConditionalExpression => self.conditional(node),
            K::NamedExpression => self.named_expression(node),
            K::Lambda => self.lambda(node),
            K::Await | K::Yield => self.await_or_yield(node),
            K::ListSplat | K::DictionarySplat | K::ListSplatPattern | K::DictionarySplatPattern => {
                self.spread(node)
            }
            // Ellipsis, keyword arguments out of place, error recovery.
            _ => self.unknown(node),
        }
    }

    fn constant(&mut self, node: Node<'t>) -> ExprKind {
        match self.kind(node) {
            K::True => ExprKind::Bool(true),
            K::False => ExprKind::Bool(false),
            K::None => ExprKind::Null,
            _ => ExprKind::Num(number(self.text(node))),
        }
    }

    fn attribute(&mut self, node: Node<'t>) -> ExprKind {
        ExprKind::Attr {
            obj: self.field_expr(node, self.g.f.object),
            name: self.field_text(node, self.g.f.attribute),
        }
    }

    fn sequence(&mut self, node: Node<'t>) -> ExprKind {
        let items = self.child_exprs(node);
        match self.kind(node) {
            K::List | K::ListPattern => ExprKind::List(items),
            K::Set => ExprKind::Set(items),
            _ => ExprKind::Tuple(items),
        }
    }

    fn named_expression(&mut self, node: Node<'t>) -> ExprKind {
        ExprKind::AssignExpr {
            target: self.field_expr(node, self.g.f.name),
            value: self.field_expr(node, self.g.f.value),
        }
    }

    fn await_or_yield(&mut self, node: Node<'t>) -> ExprKind {
        if self.kind(node) == K::Await {
            return ExprKind::Await(self.inner_expr(node));
        }
        // `yield x` / `yield from x` / `yield`: the function is a generator.
        self.function_mut(self.func).is_generator = true;
        ExprKind::Yield(self.first_child_expr(node))
    }

    fn spread(&mut self, node: Node<'t>) -> ExprKind {
        ExprKind::Spread(self.inner_expr(node))
    }

    fn unknown(&mut self, node: Node<'t>) -> ExprKind {
        ExprKind::Unknown(self.child_exprs(node))
    }

    /// The only child expression (`await x`, `*x`).
    fn inner_expr(&mut self, node: Node<'t>) -> ExprId {
        let child = self.first_child(node);
        self.expr_or_unknown(child, node)
    }

    fn name(&mut self, node: Node<'t>) -> ExprKind {
        let text = self.text(node);
        if self.self_is_this && text == "self" {
            ExprKind::This
        } else {
            ExprKind::Name(text.to_string())
        }
    }

    /// `a[i]`, `a[i:j]`, `a[i, j]` (a tuple index).
    fn subscript(&mut self, node: Node<'t>) -> ExprKind {
        let value = self.field(node, self.g.f.value);
        let obj = self.expr_or_unknown(value, node);
        let mut indices = Vec::new();
        self.each_child(node, |this, child| {
            if Some(child) != value {
                indices.push(this.expr(child));
            }
        });
        let index = match indices.as_slice() {
            [one] => *one,
            [] => self.expr_or_unknown(None, node),
            [first, .., last] => {
                let span = self.m.expr(*first).span.start..self.m.expr(*last).span.end;
                self.add_expr(ExprKind::Tuple(indices), span)
            }
        };
        ExprKind::Subscript { obj, index }
    }

    /// `a:b:c` with any part left out: the colons separate the parts.
    fn slice(&mut self, node: Node<'t>) -> ExprKind {
        let mut parts = Vec::new();
        let mut current = None;
        self.each_node(node, |this, child| {
            if child.is_named() {
                current = Some(this.expr(child));
            } else {
                parts.push(current.take());
            }
        });
        parts.push(current);
        ExprKind::Slice(parts)
    }

    fn call(&mut self, node: Node<'t>) -> ExprKind {
        let f = &self.g.f;
        let callee = self.field(node, f.function);
        // `super()` / `super(Cls, self)` is the parent class itself.
        if callee.is_some_and(|c| self.kind(c) == K::Identifier && self.text(c) == "super") {
            return ExprKind::Super;
        }
        let callee = self.expr_or_unknown(callee, node);
        let (mut args, mut keywords) = (Vec::new(), Vec::new());
        match self.field(node, f.arguments) {
            Some(list) if self.kind(list) == K::ArgumentList => {
                self.each_child(list, |this, arg| {
                    if this.kind(arg) == K::KeywordArgument {
                        let name = this.field_text(arg, this.g.f.name);
                        keywords.push((name, this.field_expr(arg, this.g.f.value)));
                    } else {
                        args.push(this.expr(arg));
                    }
                })
            }
            // `f(x for x in xs)`.
            Some(generator) => args.push(self.expr(generator)),
            None => {}
        }
        ExprKind::Call(Call {
            callee,
            args,
            keywords,
            is_new: false,
        })
    }

    fn dictionary(&mut self, node: Node<'t>) -> ExprKind {
        let mut entries = Vec::new();
        self.each_child(node, |this, child| {
            let (key, value) = match this.kind(child) {
                K::Pair => {
                    let key = this.field(child, this.g.f.key);
                    let key = match key {
                        Some(key) => this.dict_key(key),
                        None => DictKey::Computed(this.expr_or_unknown(None, child)),
                    };
                    (key, this.field_expr(child, this.g.f.value))
                }
                K::DictionarySplat => (DictKey::Spread, this.inner_expr(child)),
                _ => return,
            };
            entries.push(DictEntry {
                key,
                value,
                span: child.byte_range(),
            });
        });
        ExprKind::Dict(entries)
    }

    /// A literal string key is a name; anything else is computed.
    fn dict_key(&mut self, key: Node<'t>) -> DictKey {
        let key = self.unwrap(key);
        if !matches!(self.kind(key), K::String | K::ConcatenatedString) {
            return DictKey::Computed(self.expr(key));
        }
        match self.string(key) {
            ExprKind::Str(s) => DictKey::Name(s),
            template => DictKey::Computed(self.add_expr(template, key.byte_range())),
        }
    }

    /// The element(s), then each clause's iterated values and conditions.
    fn comprehension(&mut self, node: Node<'t>) -> ExprKind {
        let body = self.field(node, self.g.f.body);
        let mut items = Vec::new();
        self.each_child(node, |this, child| match this.kind(child) {
            _ if Some(child) == body => match this.kind(child) {
                K::Pair => {
                    items.push(this.field_expr(child, this.g.f.key));
                    items.push(this.field_expr(child, this.g.f.value));
                }
                _ => items.push(this.expr(child)),
            },
            K::ForInClause => {
                let target = this.field(child, this.g.f.left);
                this.each_child(child, |this, part| {
                    if Some(part) != target {
                        items.push(this.expr(part));
                    }
                });
            }
            K::IfClause => items.extend(this.first_child_expr(child)),
            _ => {}
        });
        ExprKind::Comprehension(items)
    }

    /// `a + b + c` and `a or b or c` nest on the left: the spine is walked
    /// in a loop so that long chains do not count as depth.
    fn operator_chain(&mut self, node: Node<'t>) -> ExprKind {
        let kind = self.kind(node);
        let left_field = self.g.f.left;
        let mut spine = vec![node];
        let mut leftmost = self.field(node, left_field);
        while let Some(left) = leftmost.filter(|l| self.kind(*l) == kind) {
            spine.push(left);
            leftmost = self.field(left, left_field);
        }
        let innermost = spine[spine.len() - 1];
        let mut left = self.expr_or_unknown(leftmost, innermost);
        for &inner in spine[1..].iter().rev() {
            let kind = self.operator(inner, left);
            left = self.add_expr(kind, inner.byte_range());
        }
        self.operator(node, left)
    }

    fn operator(&mut self, node: Node<'t>, left: ExprId) -> ExprKind {
        let right = self.field_expr(node, self.g.f.right);
        let op = self.field(node, self.g.f.operator).map(|o| self.kind(o));
        let logic = |op| ExprKind::Logic { op, left, right };
        let binary = |op| ExprKind::Binary { op, left, right };
        match op {
            Some(K::And) => logic(LogicOp::And),
            Some(K::Or) => logic(LogicOp::Or),
            Some(K::Plus) => binary(BinOp::Add),
            Some(K::Minus) => binary(BinOp::Sub),
            Some(K::Star) => binary(BinOp::Mul),
            Some(K::Slash) => binary(BinOp::Div),
            Some(K::DoubleSlash) => binary(BinOp::FloorDiv),
            Some(K::Percent) => binary(BinOp::Mod),
            Some(K::DoubleStar) => binary(BinOp::Pow),
            _ => binary(BinOp::Other),
        }
    }

    /// `a < b` is a `Compare`; a chain `a < b <= c` is `Logic And` of the
    /// pairs, the middle operand shared (lowered once).
    fn comparison(&mut self, node: Node<'t>) -> ExprKind {
        let (mut operands, mut ops) = (Vec::new(), Vec::new());
        self.each_node(node, |this, child| {
            if child.is_named() {
                operands.push(this.expr(child));
            } else {
                ops.push(cmp_op(this.kind(child)));
            }
        });
        let mut pairs = ops
            .iter()
            .zip(operands.windows(2))
            .map(|(&op, pair)| (op, pair[0], pair[1]))
            .collect::<Vec<_>>()
            .into_iter();
        let Some((op, left, right)) = pairs.next() else {
            return ExprKind::Unknown(operands);
        };
        let mut chain = ExprKind::Compare { op, left, right };
        for (op, left, right) in pairs {
            let start = self.m.expr(operands[0]).span.start;
            let previous = self.add_expr(chain, start..self.m.expr(left).span.end);
            let span = self.m.expr(left).span.start..self.m.expr(right).span.end;
            let next = self.add_expr(ExprKind::Compare { op, left, right }, span);
            chain = ExprKind::Logic {
                op: LogicOp::And,
                left: previous,
                right: next,
            };
        }
        chain
    }

    fn unary(&mut self, node: Node<'t>) -> ExprKind {
        if self.kind(node) == K::NotOperator {
            return ExprKind::Unary {
                op: UnaryOp::Not,
                operand: self.field_expr(node, self.g.f.argument),
            };
        }
        let op = match self.field(node, self.g.f.operator).map(|o| self.kind(o)) {
            Some(K::Minus) => UnaryOp::Neg,
            Some(K::Plus) => UnaryOp::Plus,
            _ => UnaryOp::Other,
        };
        ExprKind::Unary {
            op,
            operand: self.field_expr(node, self.g.f.argument),
        }
    }

    /// `then if cond else otherwise`.
    fn conditional(&mut self, node: Node<'t>) -> ExprKind {
        let parts = self.children(node);
        let part = |this: &mut Self, i: usize| this.expr_or_unknown(parts.get(i).copied(), node);
        let then = part(self, 0);
        let cond = part(self, 1);
        let otherwise = part(self, 2);
        ExprKind::Ternary {
            cond,
            then,
            otherwise,
        }
    }
}

fn cmp_op(kind: K) -> CmpOp {
    match kind {
        K::Lt => CmpOp::Lt,
        K::LtE => CmpOp::LtE,
        K::Gt => CmpOp::Gt,
        K::GtE => CmpOp::GtE,
        K::EqEq => CmpOp::Eq,
        K::NotEq | K::LtGt => CmpOp::NotEq,
        K::In => CmpOp::In,
        K::NotIn => CmpOp::NotIn,
        K::Is => CmpOp::Is,
        K::IsNot => CmpOp::IsNot,
        _ => CmpOp::Eq,
    }
}

// ---------------------------------------------------------------------------
// Literals

impl<'t> Lowerer<'t> {
    /// A string or an implicit concatenation: one `Str` when no piece is an
    /// f-string, else a `Template` of literal and interpolated parts.
    fn string(&mut self, node: Node<'t>) -> ExprKind {
        let mut parts = Vec::new();
        let mut formatted = false;
        if self.kind(node) == K::ConcatenatedString {
            self.each_child(node, |this, piece| {
                formatted |= this.string_parts(piece, &mut parts);
            });
        } else {
            formatted = self.string_parts(node, &mut parts);
        }
        if formatted {
            return ExprKind::Template(parts);
        }
        match parts.pop() {
            Some(TemplatePart::Str(s)) => ExprKind::Str(s),
            _ => ExprKind::Str(String::new()),
        }
    }

    /// Appends one string's parts; true for an f-string. The literal text
    /// lies between `string_start`, the interpolations and `string_end`.
    fn string_parts(&mut self, node: Node<'t>, parts: &mut Vec<TemplatePart>) -> bool {
        let mut prefix = "";
        let mut literal_start = node.start_byte();
        let mut literal_end = node.end_byte();
        let mut flags = (false, false);
        self.each_node(node, |this, child| match this.kind(child) {
            K::StringStart => {
                prefix = this.text(child);
                flags = string_flags(prefix);
                literal_start = child.end_byte();
            }
            K::Interpolation => {
                let literal = this
                    .text
                    .get(literal_start..child.start_byte())
                    .unwrap_or("");
                push_literal(parts, literal, flags);
                let value = this.field_expr(child, this.g.f.expression);
                parts.push(TemplatePart::Expr(value));
                literal_start = child.end_byte();
            }
            K::StringEnd => literal_end = child.start_byte(),
            _ => {}
        });
        let literal = self.text.get(literal_start..literal_end).unwrap_or("");
        push_literal(parts, literal, flags);
        flags.1
    }
}

/// (raw, formatted) from a string's opening: `rb"`, `f'''`, `"`.
fn string_flags(start: &str) -> (bool, bool) {
    let prefix = start.trim_end_matches(['"', '\'']).to_ascii_lowercase();
    (
        prefix.contains('r'),
        prefix.contains('f') || prefix.contains('t'),
    )
}

/// Appends literal source text as its value, merged with a preceding
/// literal part.
fn push_literal(parts: &mut Vec<TemplatePart>, source: &str, (raw, formatted): (bool, bool)) {
    let mut value = if raw {
        source.to_string()
    } else {
        unescape(source)
    };
    if formatted && (value.contains("{{") || value.contains("}}")) {
        value = value.replace("{{", "{").replace("}}", "}");
    }
    match parts.last_mut() {
        Some(TemplatePart::Str(last)) => last.push_str(&value),
        _ if value.is_empty() => {}
        _ => parts.push(TemplatePart::Str(value)),
    }
}

/// Python escape sequences: the common ones, `\x`, `\u`, `\U`, octal and
/// line continuations; anything else stays as written.
fn unescape(source: &str) -> String {
    if !source.contains('\\') {
        return source.to_string();
    }
    let mut out = String::with_capacity(source.len());
    let mut rest = source;
    while let Some(at) = rest.find('\\') {
        out.push_str(&rest[..at]);
        let after = &rest[at + 1..];
        let mut chars = after.chars();
        let Some(c) = chars.next() else {
            out.push('\\');
            rest = after;
            break;
        };
        let (value, used) = match c {
            'n' => (Some('\n'), 1),
            't' => (Some('\t'), 1),
            'r' => (Some('\r'), 1),
            'a' => (Some('\x07'), 1),
            'b' => (Some('\x08'), 1),
            'f' => (Some('\x0c'), 1),
            'v' => (Some('\x0b'), 1),
            '\\' | '\'' | '"' => (Some(c), 1),
            '\n' => (None, 1),
            'x' => (code_point(after, 1, 2, 16), 3),
            'u' => (code_point(after, 1, 4, 16), 5),
            'U' => (code_point(after, 1, 8, 16), 9),
            '0'..='7' => {
                let digits = after
                    .bytes()
                    .take(3)
                    .take_while(|b| (b'0'..=b'7').contains(b));
                let len = digits.count();
                (code_point(after, 0, len, 8), len)
            }
            _ => {
                out.push('\\');
                (Some(c), c.len_utf8())
            }
        };
        match value {
            Some(v) => out.push(v),
            // A line continuation, or a malformed escape kept as written.
            None if c == '\n' => {}
            None => {
                out.push('\\');
                rest = after;
                continue;
            }
        }
        rest = after.get(used..).unwrap_or("");
    }
    out.push_str(rest);
    out
}

/// The character of `len` digits at `skip` in `text`, in `radix`.
fn code_point(text: &str, skip: usize, len: usize, radix: u32) -> Option<char> {
    let digits = text.get(skip..skip + len)?;
    char::from_u32(u32::from_str_radix(digits, radix).ok()?)
}

/// A numeric literal's value: `1_000`, `0x1f`, `0o17`, `0b1`, `1.5e3`,
/// Python 2 `10L` / `017`. Complex and malformed literals are 0.
fn number(text: &str) -> f64 {
    let clean: String = text
        .chars()
        .filter(|c| *c != '_')
        .map(|c| c.to_ascii_lowercase())
        .collect();
    let clean = clean.trim_end_matches('l');
    let radix = |digits: &str, radix| u64::from_str_radix(digits, radix).ok().map(|n| n as f64);
    let value = if let Some(hex) = clean.strip_prefix("0x") {
        radix(hex, 16)
    } else if let Some(oct) = clean.strip_prefix("0o") {
        radix(oct, 8)
    } else if let Some(bin) = clean.strip_prefix("0b") {
        radix(bin, 2)
    } else if clean.len() > 1 && clean.starts_with('0') && clean.bytes().all(|b| b.is_ascii_digit())
    {
        radix(&clean[1..], 8)
    } else {
        clean.parse::<f64>().ok()
    };
    value.unwrap_or(0.0)
}

#[cfg(test)]
mod tests {
    use crate::ir::{dump, ExprKind, Module, StmtKind};
    use crate::lang::Lang;
    use std::path::Path;

    fn lower(src: &str) -> Module {
        crate::lower::lower_text(Lang::Python, Path::new("t.py"), src).unwrap()
    }

    fn ir(src: &str) -> String {
        dump(&lower(src))
    }

    /// Sources and dumps are written from their second line (after `r#"`).
    #[track_caller]
    fn assert_ir(src: &str, expected: &str) {
        let actual = ir(src.trim_start_matches('\n'));
        assert_eq!(actual, expected.trim_start_matches('\n'), "\n{actual}");
    }

    /// A Flask view counting hits in a module-level dict of lists.
    #[test]
    fn flask_view_with_module_dict_limiter() {
        let src = r#"
import time
from collections import defaultdict
from flask import Flask, request, jsonify

app = Flask(__name__)
hits = defaultdict(list)

@app.route("/login", methods=["POST"])
def login():
    key = request.remote_addr
    now = time.time()
    bucket = hits[key]
    bucket[:] = [t for t in bucket if now - t < 60]
    if len(bucket) >= 5:
        return jsonify(error="too many requests"), 429
    bucket.append(now)
    return "ok"
"#;
        assert_ir(
            src,
            r#"
import time = time
import defaultdict = collections:defaultdict
import Flask = flask:Flask
import request = flask:request
import jsonify = flask:jsonify
fn#0 _()
  import 0..1
  import 1..2
  import 2..5
  app = Flask(__name__)
  hits = defaultdict(list)
  def fn#1
fn#1 login() in fn#0
  @app.route("/login", methods=["POST"])
  key = request.remote_addr
  now = time.time()
  bucket = hits[key]
  bucket[:] = comp(t, bucket, ((now Sub t) Lt 60))
  if (len(bucket) GtE 5):
    return (jsonify(error="too many requests"), 429)
  bucket.append(now)
  return "ok"
"#,
        );
    }

    /// Methods see `self` as `This`; class- and static methods do not.
    #[test]
    fn redis_counter_in_class() {
        let src = r#"
class RateLimiter(object):
    window = 60

    def __init__(self, r, limit: int = 10):
        self.r = r
        self.limit = limit

    def allow(self, key):
        count = self.r.incr(key)
        if count == 1:
            self.r.expire(key, self.window)
        return count <= self.limit

    @classmethod
    def from_url(cls, url):
        return cls(redis.from_url(url))

    @staticmethod
    def key(ip):
        def inner(self):
            return self
        return lambda: ip
"#;
        assert_ir(
            src,
            r#"
class#0 RateLimiter(object)
  window = 60
fn#0 _()
  class class#0
fn#1 __init__(self, r, limit: int = 10) in fn#0 of class#0
  this.r = r
  this.limit = limit
fn#2 allow(self, key) in fn#0 of class#0
  count = this.r.incr(key)
  if (count Eq 1):
    this.r.expire(key, this.window)
  return (count LtE this.limit)
fn#3 from_url(cls, url) in fn#0 of class#0
  @classmethod
  return cls(redis.from_url(url))
fn#4 key(ip) in fn#0 of class#0
  @staticmethod
  def fn#5
  return fn#6
fn#5 inner(self) in fn#4
  return self
fn#6 _() in fn#4
  return ip
"#,
        );
    }

    #[test]
    fn redis_pipeline_with_keyword_arguments() {
        let src = r#"
def hit(r, k):
    pipe = r.pipeline()
    pipe.incr(k)
    pipe.expire(k, 60, nx=True)
    count, _ = pipe.execute()
    return count
"#;
        assert_ir(
            src,
            r#"
fn#0 _()
  def fn#1
fn#1 hit(r, k) in fn#0
  pipe = r.pipeline()
  pipe.incr(k)
  pipe.expire(k, 60, nx=true)
  count = pipe.execute()[0]
  _ = pipe.execute()[1]
  return count
"#,
        );
    }

    #[test]
    fn async_with_pipeline_and_caught_redis_errors() {
        let src = r#"
async def allow(r, key, *args, **kwargs):
    try:
        async with r.pipeline(transaction=True) as pipe:
            await pipe.incr(key)
            results = await pipe.execute()
    except (RedisError, ConnectionError) as exc:
        log.warning("redis down: %s", exc)
        return True
    except RedisError:
        raise
    except:
        raise LimitError("x") from None
    else:
        pass
    finally:
        await r.close()
    return results[0] <= 10
"#;
        assert_ir(
            src,
            r#"
fn#0 _()
  def fn#1
fn#1 async allow(r, key, *args, *kwargs) in fn#0
  try:
    async with r.pipeline(transaction=true) as pipe:
      await pipe.incr(key)
      results = await pipe.execute()
  except RedisError, ConnectionError as exc:
    log.warning("redis down: %s", exc)
    return true
  except RedisError:
    raise 
  except :
    raise LimitError("x")
  else:
    jump
  finally:
    await r.close()
  return (results[0] LtE 10)
"#,
        );
    }

    #[test]
    fn forwarded_for_header_with_fallback() {
        let src = r#"
ip = request.headers.get("X-Forwarded-For", "").split(",")[0] or request.remote_addr
ip = ip.strip() if ip else None
"#;
        assert_ir(
            src,
            r#"
fn#0 _()
  ip = (request.headers.get("X-Forwarded-For", "").split(",")[0] Or request.remote_addr)
  ip = (ip ? ip.strip() : null)
"#,
        );
    }

    #[test]
    fn decorators_with_arguments_outermost_first() {
        let src = r#"
@app.route("/api")
@limiter.limit("5/minute", key_func=get_remote_address)
def api():
    pass

@dataclass(frozen=True)
class Rule:
    rate: str = "5/m"
"#;
        assert_ir(
            src,
            r#"
class#0 Rule()
  @dataclass(frozen=true)
  let rate = "5/m"
fn#0 _()
  def fn#1
  class class#0
fn#1 api() in fn#0
  @app.route("/api")
  @limiter.limit("5/minute", key_func=get_remote_address)
  jump
"#,
        );
    }

    /// Each bound name gets its own `Assign` of an element of the one value.
    #[test]
    fn destructuring_chained_annotated_and_augmented_assignments() {
        let src = r#"
a, b = x
first, *rest = items
head, *middle, tail = items
(p, q), [r, s] = pairs
self_, = single
a = b = c.d = compute()
count: int = 0
limit: int
x += 1
total -= step * 2
"#;
        assert_ir(
            src,
            r#"
fn#0 _()
  a = x[0]
  b = x[1]
  first = items[0]
  rest = items[1:]
  head = items[0]
  middle = items[1:-1]
  tail = items[-1]
  p = pairs[0][0]
  q = pairs[0][1]
  r = pairs[1][0]
  s = pairs[1][1]
  self_ = single[0]
  a = compute()
  b = compute()
  c.d = compute()
  let count = 0
  x Add= 1
  total Sub= (step Mul 2)
"#,
        );
    }

    #[test]
    fn strings_numbers_and_dicts() {
        let src = r#"
key = f"rl:{ip}"
key = f"rl:{user.id}:{int(time.time()) // 60:08d}:{{literal}}"
key = "rl:" "%s" % ip
s = 'it\'s\n\t"ok"\\'
b = b"bytes\x41"
r = r"raw\d+\n"
u = u"\u00e9t\u00e9"
t = """triple
quoted"""
j = f"a" "b" f"{c!r}"
d = {"store": redis, k: 1, **opts, "n": None}
n = [1_000, 0x1F, 0o17, 0b101, 1.5e3, .5, 10, True, False, None, 1j]
"#;
        assert_ir(
            src,
            r#"
fn#0 _()
  key = `rl:{ip}`
  key = `rl:{user.id}:{(int(time.time()) FloorDiv 60)}:{literal}`
  key = ("rl:%s" Mod ip)
  s = "it's\n\t\"ok\"\\"
  b = "bytesA"
  r = "raw\\d+\\n"
  u = "été"
  t = "triple\nquoted"
  j = `ab{c}`
  d = {store: redis, [k]: 1, ...opts, n: null}
  n = [1000, 31, 15, 5, 1500, 0.5, 10, true, false, null, 0]
"#,
        );
    }

    #[test]
    fn lambdas_comprehensions_walrus_and_chained_comparisons() {
        let src = r#"
key = lambda req, *a, default=None: req.remote_addr or default
evens = [x * 2 for x in xs if x % 2 == 0]
table = {k: len(v) for k, v in hits.items() if v}
unique = {ip for ip in ips}
total = sum(n for n in counts)
if (n := r.incr(key)) > limit:
    block()
ok = 0 < n <= limit < 100
ok = a is not None and b not in c
nested = [[y for y in row] for row in grid]
"#;
        assert_ir(
            src,
            r#"
fn#0 _()
  key = fn#1
  evens = comp((x Mul 2), xs, ((x Mod 2) Eq 0))
  table = comp(k, len(v), hits.items(), v)
  unique = comp(ip, ips)
  total = sum(comp(n, counts))
  if ((n := r.incr(key)) Gt limit):
    block()
  ok = (((0 Lt n) And (n LtE limit)) And (limit Lt 100))
  ok = ((a IsNot null) And (b NotIn c))
  nested = comp(comp(y, row), grid)
fn#1 _(req, *a, default = null) in fn#0
  return (req.remote_addr Or default)
"#,
        );
    }

    #[test]
    fn elif_chains_loops_with_and_global() {
        let src = r#"
counter = 0

def bump():
    global counter
    counter += 1
    def inner():
        nonlocal counter
    del cache[key], other

if n > 100:
    level = "high"
elif n > 10:
    level = "mid"
elif n > 0:
    level = "low"
else:
    level = None

for i, ts in enumerate(window):
    if ts < cutoff:
        continue
else:
    done()

while queue and queue[0] < cutoff:
    queue.popleft()
    break

with lock, open(path) as fh:
    fh.write(data)

def gen():
    yield from source
    x = yield
"#;
        assert_ir(
            src,
            r#"
fn#0 _()
  counter = 0
  def fn#1
  if (n Gt 100):
    level = "high"
  else:
    if (n Gt 10):
      level = "mid"
    else:
      if (n Gt 0):
        level = "low"
      else:
        level = null
  for (i, ts) in enumerate(window):
    if (ts Lt cutoff):
      jump
  else:
    done()
  while (queue And (queue[0] Lt cutoff)):
    queue.popleft()
    jump
  with lock, open(path) as fh:
    fh.write(data)
  def fn#3
fn#1 bump() in fn#0
  global counter
  counter Add= 1
  def fn#2
  del cache[key], other
fn#2 inner() in fn#1
  global counter
fn#3 gen() in fn#0
  yield source
  x = yield 
"#,
        );
    }

    /// `match`, `assert`, Python 2 `print`, type aliases: `Other` with what they hold.
    #[test]
    fn match_and_unmodelled_statements() {
        let src = r#"
match request.method:
    case "GET" | "HEAD" if cached:
        serve()
    case {"ip": ip}:
        limit(ip)
    case _:
        reject()
assert limit > 0, "limit"
print >>sys.stderr, "old"
type Alias = dict[str, int]
x = ...
"#;
        assert_ir(
            src,
            r#"
fn#0 _()
  other request.method, cached:
    serve()
    limit(ip)
    reject()
  other (limit Gt 0), "limit":
  other ?(sys.stderr), "old":
  other Alias, dict:
  x = ?()
"#,
        );
    }

    #[test]
    fn imports_of_every_form() {
        let src = r#"
import a.b.c
import a.b as c, d
from .x import y as z
from . import y
from ..pkg.mod import (one, two as three)
from x import *
from __future__ import annotations

def view():
    import redis
"#;
        assert_ir(
            src,
            r#"
import a = a.b.c
import c = a.b
import d = d
import z = .x:y
import y = .:y
import one = ..pkg.mod:one
import three = ..pkg.mod:two
import * = x:*
import annotations = __future__:annotations
import redis = redis
fn#0 _()
  import 0..1
  import 1..3
  import 3..4
  import 4..5
  import 5..7
  import 7..8
  import 8..9
  def fn#1
fn#1 view() in fn#0
  import 9..10
"#,
        );
        let m = lower(src.trim_start());
        assert_eq!(m.imports[0].function, Module::TOP);
        assert_eq!(m.imports[9].function, crate::ir::FuncId(1));
        assert!(m.exports.is_empty());
    }

    #[test]
    fn function_and_class_flags() {
        let src = "
class A(Base, metaclass=Meta):
    @staticmethod
    def s(): pass
    @classmethod
    def c(cls): pass
    async def m(self):
        yield 1
    def plain(self):
        return [x for x in self.items]
";
        let m = lower(src);
        let class = &m.classes[0];
        assert_eq!(class.methods.len(), 4);
        assert_eq!(class.function, Module::TOP);
        assert_eq!(class.bases.len(), 1, "metaclass= is dropped");
        let flags: Vec<_> = class
            .methods
            .iter()
            .map(|f| {
                let f = m.func(*f);
                let name = f.name.clone().unwrap();
                assert_eq!(&src[f.name_span.clone()], name);
                assert_eq!(f.class, Some(crate::ir::ClassId(0)));
                assert_eq!(f.parent, Some(Module::TOP));
                (name, f.is_static, f.is_async, f.is_generator)
            })
            .collect();
        let expected = [
            ("s", true, false, false),
            ("c", true, false, false),
            ("m", false, true, true),
            ("plain", false, false, false),
        ];
        let expected: Vec<_> = expected
            .iter()
            .map(|(n, s, a, g)| (n.to_string(), *s, *a, *g))
            .collect();
        assert_eq!(flags, expected);
        assert_eq!(&src[class.name_span.clone()], "A");
    }

    /// The text at a lowered node's span is the node's source.
    #[test]
    fn spans_cover_the_source() {
        let src = r#"
@limiter.limit("5/minute")
def view(request, limit: int = 5, *args, **kwargs):
    ip = request.headers.get("X-Forwarded-For", "").split(",")[0] or request.remote_addr
    key = f"rl:{ip}"
    try:
        n = self.r.incr(key)
    except RedisError as e:
        n = 0
    return (n <= limit) and not blocked
f = lambda x: x + 1
"#;
        let m = lower(src);
        let text = |span: &crate::ir::Span| &src[span.clone()];
        for e in &m.exprs {
            let t = text(&e.span);
            match &e.kind {
                ExprKind::Name(n) => assert_eq!(t, n),
                ExprKind::Attr { name, .. } => assert!(t.ends_with(&format!(".{name}")), "{t}"),
                ExprKind::Call(_) => assert!(t.ends_with(')'), "{t}"),
                ExprKind::Compare { .. } => assert!(t.starts_with('n') && t.ends_with("limit")),
                _ => {}
            }
        }
        let find = |wanted: &str| m.exprs.iter().any(|e| text(&e.span) == wanted);
        for wanted in [
            r#""X-Forwarded-For""#,
            r#"f"rl:{ip}""#,
            "ip",
            r#"request.headers.get("X-Forwarded-For", "").split(",")[0]"#,
            "not blocked",
            "lambda x: x + 1",
        ] {
            assert!(find(wanted), "no expression spans {wanted:?}");
        }
        let view = m.func(crate::ir::FuncId(1));
        assert!(text(&view.span).starts_with("@limiter.limit(\"5/minute\")\ndef view("));
        assert_eq!(text(&view.name_span), "view");
        let params: Vec<_> = view.params.iter().map(|p| text(&p.span)).collect();
        assert_eq!(params, ["request", "limit: int = 5", "*args", "**kwargs"]);
        let lambda = m.func(crate::ir::FuncId(2));
        assert_eq!(text(&lambda.span), "lambda x: x + 1");
        assert_eq!(text(&lambda.name_span), "lambda");
        let first = m.stmt(view.body[0]);
        assert!(text(&first.span).starts_with("ip = request.headers"));
        let StmtKind::Try { handlers, .. } = &m.stmt(view.body[2]).kind else {
            panic!("not a try");
        };
        assert!(text(&handlers[0].span).starts_with("except RedisError as e:"));
        for s in &m.stmts {
            assert!(!text(&s.span).trim().is_empty());
        }
    }

    /// An unclosed call swallows the rest of the file into one ERROR node:
    /// its calls are still lowered, inside `Other`.
    #[test]
    fn syntax_error_swallowing_the_file() {
        let src = r#"
import redis
r = redis.Redis(
def allow(key):
    return r.incr(key) < 10
"#;
        let m = lower(src.trim_start());
        assert!(m.syntax_errors > 0);
        assert_eq!(
            dump(&m),
            r#"import redis = redis
fn#0 _()
  import 0..1
  other r, redis.Redis, (r.incr(key) Lt 10):
    other allow(key):
"#
        );
    }

    /// A broken definition leaves the code around it lowered as usual.
    #[test]
    fn syntax_error_in_one_definition() {
        let src = r#"
def broken(:
    pass

def fine():
    return r.get("k")
"#;
        let m = lower(src.trim_start());
        assert!(m.syntax_errors > 0);
        let out = dump(&m);
        assert!(out.contains("fine()"), "{out}");
        assert!(out.contains("return r.get(\"k\")"), "{out}");
    }

    /// Every kind id the tree reports is the one looked up by name (the
    /// `K` table is sound), and every listed kind and field exists (checked
    /// by the debug assertions of `grammar()`).
    #[test]
    fn kind_ids_match_the_grammar() {
        let src = r#"
async def f(a, b: int = 1, *c, d, **e) -> None:
    global g
    x = [i async for i in y if i] + {k: v for k, v in z} | {1, *s}
    with (a as b, c):
        del x[1:2, ::3]
    y = x if not x else -x ** 2 @ m
    match x:
        case [1, *rest] | {"k": v} if v: pass
    return lambda q=1: (yield)
print >>sys.stderr, "x"; exec "code"
"#;
        let lang: tree_sitter::Language = tree_sitter_python::LANGUAGE.into();
        let tree = crate::lang::parse(Lang::Python, src).unwrap();
        let _ = super::grammar();
        let mut cursor = tree.walk();
        let mut seen = 0;
        loop {
            let node = cursor.node();
            if !node.is_error() {
                let id = lang.id_for_node_kind(node.kind(), node.is_named());
                assert_eq!(id, node.kind_id(), "{}", node.kind());
                seen += 1;
            }
            if cursor.goto_first_child() {
                continue;
            }
            while !cursor.goto_next_sibling() {
                if !cursor.goto_parent() {
                    assert!(seen > 200);
                    return;
                }
            }
        }
    }

    #[test]
    fn string_and_number_literals() {
        assert_eq!(
            super::unescape(r"a\nb\tc\\d\'e\x41\u00e9\101\q"),
            "a\nb\tc\\d'eAéA\\q"
        );
        assert_eq!(super::unescape("line\\\ncontinued"), "linecontinued");
        assert_eq!(super::unescape(r"bad\xZZ"), r"bad\xZZ");
        for (text, value) in [
            ("1_000", 1000.0),
            ("0x1F", 31.0),
            ("0O17", 15.0),
            ("0b101", 5.0),
            ("1.5e3", 1500.0),
            ("1_0.5", 10.5),
            ("10L", 10.0),
            ("017", 15.0),
            ("0", 0.0),
            ("2j", 0.0),
        ] {
            assert_eq!(super::number(text), value, "{text}");
        }
    }

    /// Lowers `src` on a thread with a 2 MiB stack (the default for
    /// spawned threads), returning the module and the time lowering took
    /// (parsing apart).
    fn lower_on_small_stack(src: String) -> (Module, std::time::Duration) {
        std::thread::Builder::new()
            .stack_size(2 << 20)
            .spawn(move || {
                let tree = crate::lang::parse(Lang::Python, &src).unwrap();
                let start = std::time::Instant::now();
                let m = crate::lower::lower(Lang::Python, Path::new("t.py"), &src, &tree);
                (m, start.elapsed())
            })
            .unwrap()
            .join()
            .unwrap()
    }

    #[track_caller]
    fn assert_deep(src: String, truncated: bool) -> Module {
        let (m, took) = lower_on_small_stack(src);
        assert_eq!(m.truncated, truncated);
        assert!(took.as_secs_f64() < 1.0, "lowering took {took:?}");
        m
    }

    const DEEP: usize = 5000;

    /// Parentheses unwrap in a loop: any number is no depth at all.
    #[test]
    fn deep_parentheses() {
        let src = format!("x = {}1{}\n", "(".repeat(DEEP), ")".repeat(DEEP));
        let m = assert_deep(src, false);
        assert_eq!(dump(&m), "fn#0 _()\n  x = 1\n");
    }

    #[test]
    fn deep_expressions_are_truncated() {
        for (open, close) in [
            ("f(", ")"),
            ("[", "]"),
            ("{1: ", "}"),
            ("-", ""),
            ("not ", ""),
        ] {
            let src = format!("x = {}1{}\n", open.repeat(DEEP), close.repeat(DEEP));
            let m = assert_deep(src, true);
            assert_eq!(m.func(Module::TOP).body.len(), 1);
        }
        for tail in [" ** 2", ".b", ".b()", " if c else 2", "[0]"] {
            assert_deep(format!("x = a{}\n", tail.repeat(DEEP)), true);
        }
        assert_deep(format!("x = {}1\n", "lambda: ".repeat(DEEP)), true);
        assert_deep(
            format!("{}a{} = x\n", "(".repeat(DEEP), ",)".repeat(DEEP)),
            true,
        );
    }

    /// Left-leaning chains are lowered in a loop: long ones are complete.
    #[test]
    fn long_operator_chains_are_not_depth() {
        let m = assert_deep(format!("x = 1{}\n", " + 2".repeat(DEEP)), false);
        assert_eq!(m.exprs.len(), 2 * DEEP + 2);
        assert_deep(format!("x = a{}\n", " or b".repeat(DEEP)), false);
    }

    /// 1,000 levels of indentation (the file grows with the square).
    #[test]
    fn deep_blocks_are_truncated() {
        // Deeper than `MAX_DEPTH`, within what the grammar's scanner can
        // follow (`lang::too_deeply_indented`).
        let levels = crate::lang::PYTHON_MAX_INDENT_LEVELS - 10;
        assert!(levels > crate::lower::MAX_DEPTH + 50);
        let nest = |line: &str| -> String {
            let mut src: String = (0..levels)
                .map(|i| format!("{}{line}\n", " ".repeat(i)))
                .collect();
            src.push_str(&" ".repeat(levels));
            src.push_str("pass\n");
            src
        };
        for line in [
            "if x:",
            "def f():",
            "class A:",
            "with a:",
            "try:",
            "for x in y:",
        ] {
            assert_deep(nest(line), true);
        }
    }

    /// `elif` chains nest in the IR: beyond `MAX_DEPTH` the rest of the
    /// chain is one flat `Other`, its conditions and bodies kept.
    #[test]
    fn long_elif_chains() {
        let src = format!(
            "if a:\n  f(0)\n{}else:\n  g()\n",
            "elif b:\n  f(1)\n".repeat(DEEP)
        );
        let m = assert_deep(src, true);
        let calls = m
            .exprs
            .iter()
            .filter(|e| matches!(e.kind, ExprKind::Call(_)))
            .count();
        assert_eq!(calls, DEEP + 2);
        let short = "if a:\n  f(0)\nelif b:\n  f(1)\nelse:\n  g()\n";
        assert_eq!(
            ir(short),
            "fn#0 _()\n  if a:\n    f(0)\n  else:\n    if b:\n      f(1)\n    else:\n      g()\n"
        );
    }

    /// Parsing vs lowering time over a tree of Python files (default the
    /// real-code corpus), per file and as one concatenated file:
    /// `cargo test --release --lib lowering_speed -- --ignored --nocapture`.
    #[test]
    #[ignore]
    fn lowering_speed() {
        use std::time::{Duration, Instant};
        let root = std::env::var("RATECHECK_PY_CORPUS").unwrap_or("/work/corpus/tree".into());
        let files: Vec<String> = ignore::Walk::new(root)
            .flatten()
            .filter(|e| e.path().extension().is_some_and(|x| x == "py"))
            .filter_map(|e| std::fs::read_to_string(e.path()).ok())
            .collect();
        let measure = |src: &str| {
            let start = Instant::now();
            let tree = crate::lang::parse(Lang::Python, src).unwrap();
            let parsed = start.elapsed();
            let m = crate::lower::lower(Lang::Python, Path::new("t.py"), src, &tree);
            (parsed, start.elapsed() - parsed, m)
        };
        let (mut parse, mut lower, mut nodes, mut errors, mut truncated) =
            (Duration::ZERO, Duration::ZERO, 0, 0, 0);
        for src in &files {
            let (p, l, m) = measure(src);
            for e in &m.exprs {
                assert!(src.get(e.span.clone()).is_some());
            }
            parse += p;
            lower += l;
            nodes += m.exprs.len() + m.stmts.len();
            errors += (m.syntax_errors > 0) as usize;
            truncated += m.truncated as usize;
        }
        let bytes: usize = files.iter().map(|f| f.len()).sum();
        println!(
            "{} files, {:.1} MB, {nodes} IR nodes ({errors} with syntax errors, {truncated} truncated): \
             parse {parse:?}, lower {lower:?} ({:.0}% of parsing)",
            files.len(),
            bytes as f64 / 1e6,
            100.0 * lower.as_secs_f64() / parse.as_secs_f64()
        );
        let big = files.join("\n");
        let (p, l, m) = measure(&big);
        println!(
            "one file of {:.1} MB: parse {p:?}, lower {l:?} ({:.0}%), {} IR nodes",
            big.len() as f64 / 1e6,
            100.0 * l.as_secs_f64() / p.as_secs_f64(),
            m.exprs.len() + m.stmts.len()
        );
    }
}
