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
    lowerer.m.functions.push(Function {
        name: None,
        kind: FunctionKind::Module,
        span: 0..text.len(),
        name_span: 0..0,
        params: Vec::new(),
        body: Vec::new(),
        is_async: false,
        is_generator: false,
        parent: None,
        class: None,
        decorators: Vec::new(),
        is_static: false,
    });
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

    /// Calls `f` on each child that is not an extra (comments), tokens
    /// included.
    fn each_node(&mut self, node: Node<'t>, mut f: impl FnMut(&mut Self, Node<'t>)) {
        let mut cursor = self.cursors.pop().unwrap_or_else(|| node.walk());
        cursor.reset(node);
        if cursor.goto_first_child() {
            loop {
                let child = cursor.node();
                if !child.is_extra() {
                    f(self, child);
                }
                if !cursor.goto_next_sibling() {
                    break;
                }
            }
        }
        self.cursors.push(cursor);
    }

    /// Calls `f` on each named child that is not an extra.
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
            K::ReturnStatement => StmtKind::Return(self.first_child_expr(node)),
            K::RaiseStatement => StmtKind::Raise(self.raised(node)),
            K::PassStatement | K::BreakStatement | K::ContinueStatement => StmtKind::Jump,
            K::IfStatement => self.if_statement(node),
            K::ForStatement => self.for_statement(node),
            K::WhileStatement => self.while_statement(node),
            K::TryStatement => self.try_statement(node),
            K::WithStatement => self.with_statement(node),
            K::FunctionDefinition | K::ClassDefinition | K::DecoratedDefinition => {
                self.definition(node, None)
            }
            K::ImportStatement | K::ImportFromStatement | K::FutureImportStatement => {
                StmtKind::Import(self.imports(node))
            }
            K::GlobalStatement | K::NonlocalStatement => StmtKind::Global(self.names(node)),
            K::DeleteStatement => StmtKind::Delete(self.deleted(node)),
            K::MatchStatement => self.match_statement(node),
            _ => self.other_stmt(node),
        };
        let id = self.add_stmt(kind, node.byte_range());
        out.push(id);
    }

    /// Statements the IR does not model (assert, print, exec, type alias)
    /// and error recovery: the expressions and statements found inside.
    fn other_stmt(&mut self, node: Node<'t>) -> StmtKind {
        let (mut exprs, mut stmts) = (Vec::new(), Vec::new());
        if self.enter() {
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

    fn expr_kind(&mut self, node: Node<'t>) -> ExprKind {
        let f = &self.g.f;
        match self.kind(node) {
            K::Identifier => self.name(node),
            K::True => ExprKind::Bool(true),
            K::False => ExprKind::Bool(false),
            K::None => ExprKind::Null,
            K::Integer | K::Float => ExprKind::Num(number(self.text(node))),
            K::String | K::ConcatenatedString => self.string(node),
            K::Attribute => ExprKind::Attr {
                obj: self.field_expr(node, f.object),
                name: self.field_text(node, f.attribute),
            },
            K::Subscript => self.subscript(node),
            K::Slice => self.slice(node),
            K::Call => self.call(node),
            K::List | K::ListPattern => ExprKind::List(self.child_exprs(node)),
            K::Tuple | K::TuplePattern | K::ExpressionList | K::PatternList => {
                ExprKind::Tuple(self.child_exprs(node))
            }
            K::Set => ExprKind::Set(self.child_exprs(node)),
            K::Dictionary => self.dictionary(node),
            K::ListComprehension
            | K::SetComprehension
            | K::GeneratorExpression
            | K::DictionaryComprehension => self.comprehension(node),
            K::BooleanOperator | K::BinaryOperator => self.operator_chain(node),
            K::ComparisonOperator => self.comparison(node),
            K::NotOperator => ExprKind::Unary {
                op: UnaryOp::Not,
                operand: self.field_expr(node, f.argument),
            },
            K::UnaryOperator => self.unary(node),
            K::ConditionalExpression => self.conditional(node),
            K::NamedExpression => ExprKind::AssignExpr {
                target: self.field_expr(node, f.name),
                value: self.field_expr(node, f.value),
            },
            K::Lambda => self.lambda(node),
            K::Await => ExprKind::Await(self.inner_expr(node)),
            K::Yield => self.yield_expr(node),
            K::ListSplat | K::DictionarySplat | K::ListSplatPattern | K::DictionarySplatPattern => {
                ExprKind::Spread(self.inner_expr(node))
            }
            // Ellipsis, keyword arguments out of place, error recovery.
            _ => ExprKind::Unknown(self.child_exprs(node)),
        }
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

    /// `yield x` / `yield from x` / `yield`: the function is a generator.
    fn yield_expr(&mut self, node: Node<'t>) -> ExprKind {
        self.function_mut(self.func).is_generator = true;
        ExprKind::Yield(self.first_child_expr(node))
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
    use crate::ir::{dump, Module};
    use crate::lang::Lang;
    use std::path::Path;

    fn lower(src: &str) -> Module {
        crate::lower::lower_text(Lang::Python, Path::new("t.py"), src).unwrap()
    }

    fn ir(src: &str) -> String {
        dump(&lower(src))
    }

    #[test]
    fn imports_of_every_form() {
        assert_eq!(
            ir("import a.b\nimport a.b as c, d\nfrom .x import y as z\nfrom . import y\nfrom x import *\n"),
            "import a = a.b\nimport c = a.b\nimport d = d\nimport z = .x:y\nimport y = .:y\nimport * = x:*\nfn#0 _()\n  import 0..1\n  import 1..3\n  import 3..4\n  import 4..5\n  import 5..6\n"
        );
    }
}
