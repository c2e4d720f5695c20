//! Language-independent bookkeeping for fact extraction: lexical scopes,
//! which names are limiter-state containers, aliases of container entries
//! (`q = hits[ip]`), variables holding client keys, and the facts recorded.
//! The Python and JavaScript walkers feed it syntax-level events.

use crate::facts::*;
use crate::knowledge;
use crate::source::Span;
use std::collections::{HashMap, HashSet};

/// A local of some function that is initialised with a container constructor.
#[derive(Debug, Clone)]
pub struct LocalCtor {
    pub span: Span,
    pub constructor: String,
    pub bounded: bool,
}

#[derive(Debug, Default)]
pub struct Scope {
    pub function: usize,
    /// The enclosing function's `try` frames, restored when this one ends.
    saved_guards: Vec<Guard>,
    /// Locals holding a store client (`r = redis.Redis()`, `pipe = r.pipeline()`).
    pub store_vars: HashSet<String>,
    /// Pipelines / MULTI blocks and the key of the commands queued on them:
    /// the store is only reached at `execute()` / `exec()`.
    pub pipelines: HashMap<String, KeyClass>,
    pub class: Option<String>,
    /// Names bound in this function (parameters, assignments, declarations).
    pub locals: HashSet<String>,
    /// Python `global` names.
    pub globals: HashSet<String>,
    /// Locals initialised with a container: closure-state candidates.
    pub local_ctors: HashMap<String, LocalCtor>,
    closure_containers: HashMap<String, usize>,
    /// `q = hits[ip]`: q stands for the entry of `hits` under `ip`.
    pub aliases: HashMap<String, (ContainerRef, KeyClass, Option<String>)>,
    pub key_vars: HashMap<String, KeyClass>,
    /// Variables holding a count, a time or a window.
    pub countsy_vars: HashSet<String>,
    pub params: Vec<String>,
}

/// See `Builder::pipeline_step`.
pub enum PipelineStep {
    /// The command reaches the store with this key.
    Send(KeyClass),
    /// Queued on a pipeline: nothing reaches the store yet.
    Queued,
    /// `r.pipeline().incr(k)….execute()`: the key is in the chain.
    ExecuteChain,
}

/// What a bare name refers to, from the current scope outwards.
#[derive(Debug, Clone, PartialEq)]
pub enum NameRef {
    Container(ContainerRef),
    Alias(ContainerRef, KeyClass),
    Other,
}

/// How deep the walkers follow syntax. Hand-written code nests far less;
/// deeper trees are machine-generated, and following them recursively
/// would risk the thread's stack.
pub const MAX_DEPTH: usize = 1000;

#[derive(Default)]
pub struct Builder {
    /// Current recursion depth of the walker and of expression analysis.
    pub depth: usize,
    pub expr_depth: usize,
    pub facts: FileFacts,
    pub module_containers: HashMap<String, usize>,
    pub class_attrs: HashMap<(String, String), usize>,
    pub instance_attrs: HashMap<(String, String), usize>,
    /// Local name → (module, imported member).
    pub imported: HashMap<String, (String, Option<String>)>,
    pub scopes: Vec<Scope>,
    /// See `note_key`.
    pub noted_key: Option<String>,
    /// Error-handling frames (`try` blocks) of the current function.
    pub guards: Vec<Guard>,
    pub module_store_vars: HashSet<String>,
    /// Bumped whenever a scope's `key_vars` change: `key_of_name` gives
    /// the same answers while `(current_function(), key_epoch)` is the same.
    pub key_epoch: u64,
    /// Bumped whenever a scope's `countsy_vars` or `aliases` gain a name:
    /// `is_countsy_var` gives the same answers while
    /// `(current_function(), countsy_epoch)` is the same.
    pub countsy_epoch: u64,
}

impl Builder {
    /// Enter one level of the syntax walk (`expression`: of expression
    /// analysis); `false` past `MAX_DEPTH`, and the file is marked as
    /// truncated. Pair with `leave`.
    pub fn enter(&mut self, expression: bool) -> bool {
        let depth = if expression {
            &mut self.expr_depth
        } else {
            &mut self.depth
        };
        if *depth >= MAX_DEPTH {
            self.facts.truncated = true;
            return false;
        }
        if super::budget::tick() {
            return false;
        }
        *depth += 1;
        true
    }

    pub fn leave(&mut self, expression: bool) {
        let depth = if expression {
            &mut self.expr_depth
        } else {
            &mut self.depth
        };
        *depth -= 1;
    }

    pub fn scope(&self) -> Option<&Scope> {
        self.scopes.last()
    }

    pub fn scope_mut(&mut self) -> Option<&mut Scope> {
        self.scopes.last_mut()
    }

    pub fn current_function(&self) -> Option<usize> {
        self.scopes.last().map(|s| s.function)
    }

    pub fn function_mut(&mut self) -> Option<&mut Function> {
        let idx = self.current_function()?;
        self.facts.functions.get_mut(idx)
    }

    pub fn add_container(&mut self, container: Container) -> usize {
        self.facts.containers.push(container);
        self.facts.containers.len() - 1
    }

    pub fn add_import(&mut self, local: &str, module: &str, name: Option<&str>) {
        self.imported.insert(
            local.to_string(),
            (module.to_string(), name.map(str::to_string)),
        );
        self.facts.imports.push(Import {
            local: local.to_string(),
            module: module.to_string(),
            name: name.map(str::to_string),
        });
    }

    pub fn open_function(&mut self, function: Function, class: Option<String>) -> usize {
        let params = function.params.clone();
        self.facts.functions.push(function);
        let idx = self.facts.functions.len() - 1;
        let mut scope = Scope {
            function: idx,
            class,
            ..Default::default()
        };
        for (i, p) in params.iter().enumerate() {
            scope.locals.insert(p.clone());
            let key = if knowledge::is_client_like_variable(p) {
                KeyClass::Client(ClientKeyKind::NamedLikeClient)
            } else {
                KeyClass::Param(i)
            };
            scope.key_vars.insert(p.clone(), key);
        }
        scope.params = params;
        scope.saved_guards = std::mem::take(&mut self.guards);
        self.scopes.push(scope);
        idx
    }

    pub fn close_function(&mut self) {
        if let Some(scope) = self.scopes.pop() {
            self.guards = scope.saved_guards;
        }
    }

    /// The innermost `try` around the current node, within this function.
    pub fn current_guard(&self) -> Guard {
        self.guards.last().copied().unwrap_or_default()
    }

    /// Is `name` a variable holding a store client, here or at module level?
    pub fn is_store_var(&self, name: &str) -> bool {
        self.module_store_vars.contains(name)
            || self.scopes.iter().any(|s| s.store_vars.contains(name))
    }

    /// Pipelines and MULTI blocks reach the store only at `execute()` /
    /// `exec()`, with the keys of the commands queued before. Decide what a
    /// store command on `receiver` means.
    pub fn pipeline_step(&mut self, receiver: &str, command: &str, key: KeyClass) -> PipelineStep {
        let executes = matches!(command, "execute" | "exec");
        if let Some(queued) = self
            .scopes
            .last_mut()
            .and_then(|s| s.pipelines.get_mut(receiver))
        {
            if executes {
                return PipelineStep::Send(*queued);
            }
            *queued = combine_keys([*queued, key]);
            return PipelineStep::Queued;
        }
        if receiver.contains(".pipeline(") || receiver.contains(".multi(") {
            return if executes {
                PipelineStep::ExecuteChain
            } else {
                PipelineStep::Queued
            };
        }
        PipelineStep::Send(key)
    }

    pub fn add_pipeline(&mut self, name: &str) {
        if let Some(scope) = self.scopes.last_mut() {
            scope.pipelines.insert(name.to_string(), KeyClass::Unknown);
        }
    }

    pub fn add_store_var(&mut self, name: &str) {
        match self.scopes.last_mut() {
            Some(scope) => scope.store_vars.insert(name.to_string()),
            None => self.module_store_vars.insert(name.to_string()),
        };
    }

    /// Resolve a bare name to a container, an alias of a container entry,
    /// or something else, following the language's lexical scoping (the
    /// walkers have already filled each scope's `locals`).
    pub fn resolve(&mut self, name: &str) -> NameRef {
        let depth = self.scopes.len();
        for i in (0..depth).rev() {
            let scope = &self.scopes[i];
            if let Some((c, k, text)) = scope.aliases.get(name) {
                let (c, k) = (c.clone(), *k);
                self.noted_key = text.clone();
                return NameRef::Alias(c, k);
            }
            if scope.globals.contains(name) {
                break;
            }
            if scope.locals.contains(name) {
                if i + 1 == depth {
                    // Our own local: per-call state, not shared.
                    return NameRef::Other;
                }
                if let Some(idx) = scope.closure_containers.get(name) {
                    return NameRef::Container(ContainerRef::Local(*idx));
                }
                let Some(ctor) = scope.local_ctors.get(name).cloned() else {
                    return NameRef::Other;
                };
                let factory = scope.function;
                let idx = self.add_container(Container {
                    name: name.to_string(),
                    scope: ContainerScope::Closure { factory },
                    constructor: ctor.constructor,
                    bounded: ctor.bounded,
                    span: ctor.span,
                });
                self.scopes[i]
                    .closure_containers
                    .insert(name.to_string(), idx);
                return NameRef::Container(ContainerRef::Local(idx));
            }
        }
        if let Some(idx) = self.module_containers.get(name) {
            return NameRef::Container(ContainerRef::Local(*idx));
        }
        if let Some((module, Some(member))) = self.imported.get(name) {
            return NameRef::Container(ContainerRef::Imported {
                module: module.clone(),
                name: member.clone(),
            });
        }
        NameRef::Other
    }

    /// `module.name` where `module` is an imported module of the project.
    pub fn resolve_module_member(&self, object: &str, member: &str) -> Option<ContainerRef> {
        let (module, imported_member) = self.imported.get(object)?;
        // `import limiter` or `from app import limiter` both may name a module.
        let module = match imported_member {
            None => module.clone(),
            Some(m) if module.ends_with('.') => format!("{module}{m}"),
            Some(m) => format!("{module}.{m}"),
        };
        Some(ContainerRef::Imported {
            module,
            name: member.to_string(),
        })
    }

    /// `self.x` / `this.x` / `ClassName.x` inside class `class`.
    pub fn resolve_attr(&self, class: &str, attr: &str) -> Option<ContainerRef> {
        let key = (class.to_string(), attr.to_string());
        self.instance_attrs
            .get(&key)
            .or_else(|| self.class_attrs.get(&key))
            .map(|i| ContainerRef::Local(*i))
    }

    pub fn current_class(&self) -> Option<String> {
        self.scopes.iter().rev().find_map(|s| s.class.clone())
    }

    /// The key class of a plain variable: tracked key variables, then the
    /// variable's own name.
    pub fn key_of_name(&self, name: &str) -> KeyClass {
        if let Some(scope) = self.scope() {
            if let Some(k) = scope.key_vars.get(name) {
                return *k;
            }
        }
        if knowledge::is_client_like_variable(name) {
            KeyClass::Client(ClientKeyKind::NamedLikeClient)
        } else {
            KeyClass::Unknown
        }
    }

    pub fn is_countsy_var(&self, name: &str) -> bool {
        let lower = name.to_ascii_lowercase();
        knowledge::COUNT_OR_TIME_VARIABLES.contains(&lower.as_str())
            || self
                .scope()
                .is_some_and(|s| s.countsy_vars.contains(name) || s.aliases.contains_key(name))
    }

    /// A local variable that holds a count or a time (`n += 1`).
    pub fn add_countsy_var(&mut self, name: String) {
        if let Some(scope) = self.scope_mut() {
            if scope.countsy_vars.insert(name) {
                self.countsy_epoch += 1;
            }
        }
    }

    /// Track what a local variable now holds. Aliases of container entries
    /// are sticky: `entry = d.get(ip)` then `if entry is None: entry = {...}`
    /// still refers to the entry that is later stored back.
    pub fn track_variable(
        &mut self,
        name: &str,
        root: Option<(ContainerRef, KeyClass)>,
        key: KeyClass,
        countsy: bool,
    ) {
        let key_text = self.noted_key.clone();
        let Some(scope) = self.scope_mut() else {
            return;
        };
        let mut countsy_changed = false;
        if let Some((c, k)) = root {
            countsy_changed |= scope
                .aliases
                .insert(name.to_string(), (c, k, key_text))
                .is_none();
        }
        let changed = if matches!(key, KeyClass::Client(_) | KeyClass::Param(_)) {
            scope.key_vars.insert(name.to_string(), key) != Some(key)
        } else if !scope.aliases.contains_key(name) {
            scope.key_vars.remove(name).is_some()
        } else {
            false
        };
        if countsy {
            countsy_changed |= scope.countsy_vars.insert(name.to_string());
        }
        if changed {
            self.key_epoch += 1;
        }
        if countsy_changed {
            self.countsy_epoch += 1;
        }
    }

    /// Remember the key expression of the entry just analysed; the next
    /// `record` (or alias) carries it, for messages.
    pub fn note_key(&mut self, text: &str) {
        let collapsed: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
        self.noted_key = Some(if collapsed.chars().count() > 60 {
            collapsed.chars().take(57).collect::<String>() + "…"
        } else {
            collapsed
        });
    }

    pub fn record(&mut self, container: ContainerRef, key: KeyClass, kind: AccessKind, span: Span) {
        let function = self.current_function();
        self.facts.accesses.push(StateAccess {
            container,
            function,
            key,
            key_text: self.noted_key.clone(),
            kind,
            span,
        });
    }

    /// Record a 429 answer of the current function; `statement` is the
    /// statement the 429 literal answers in, if any (the walkers keep it
    /// from the top down), `src` the file's text. Only whether its text
    /// says "rate limit" is kept (RATE001); RATE007/RATE008 judge each 429
    /// on the model (`model::rejections`).
    pub fn add_rejection(&mut self, statement: Option<Span>, src: &str) {
        let Some(statement) = statement else {
            return;
        };
        // Inside an exception class (`class RateLimitExceeded(HTTPException)`
        // setting its 429): the rejection happens where it is raised.
        if self
            .current_class()
            .is_some_and(|c| knowledge::is_error_class_name(&c))
        {
            return;
        }
        let says_rate_limit = knowledge::says_rate_limit(&src[statement.start..statement.end]);
        if let Some(f) = self.function_mut() {
            f.answers_rate_limit_429 |= says_rate_limit;
        }
    }

    /// A call to something named like a limiter (`is_rate_limited`).
    pub fn note_limiter_call(&mut self, callee_text: &str) {
        let limiter = knowledge::call_asks_limiter(callee_text);
        if let Some(f) = self.function_mut() {
            f.calls_limiter |= limiter;
        }
    }

    pub fn note_await(&mut self, offset: usize) {
        if let Some(f) = self.function_mut() {
            f.awaits.push(offset);
        }
    }

    pub fn note_lock(&mut self) {
        if let Some(f) = self.function_mut() {
            f.locks = true;
        }
    }

    pub fn raise_deny(&mut self, signal: DenySignal) {
        if let Some(f) = self.function_mut() {
            f.deny = f.deny.max(signal);
        }
    }

    pub fn mark_request_context(&mut self) {
        if let Some(f) = self.function_mut() {
            f.request_context = true;
        }
    }

    /// Record a call site. Calls to names that are never a project's own
    /// request helpers (`log`, `push`, `len`, …) are dropped: they would
    /// only cost memory (millions of them in a big code base) and, at
    /// worst, link unrelated functions. Arguments are kept only up to the
    /// last one that can carry a client key.
    pub fn add_call(&mut self, callee: &str, receiver: Option<&str>, mut args: Vec<KeyClass>) {
        if knowledge::NEVER_PROJECT_HELPERS.contains(&callee) {
            return;
        }
        while args.last() == Some(&KeyClass::Unknown) {
            args.pop();
        }
        if args.is_empty() {
            args = Vec::new(); // release the capacity
        } else {
            args.shrink_to_fit();
        }
        let guard = self.current_guard();
        if let Some(f) = self.function_mut() {
            f.calls.push(CallSite {
                callee: callee.into(),
                receiver: receiver.map(Into::into),
                guard,
                args,
            });
        }
    }

    /// The limiter library a callee sets up: `Limiter` imported from
    /// `flask_limiter`, `flask_limiter.Limiter`, `rateLimit` from
    /// `express-rate-limit`, …
    pub fn limiter_library_for(
        &self,
        python: bool,
        object: Option<&str>,
        name: &str,
    ) -> Option<usize> {
        match object {
            None => {
                let (module, member) = self.imported.get(name)?;
                knowledge::limiter_library(python, module, member.as_deref())
            }
            Some(object) => {
                let (module, member) = self.imported.get(object)?;
                let module = match member {
                    None => module.clone(),
                    Some(m) if python => format!("{module}.{m}"),
                    // JS: `ThrottlerModule.forRoot`: the object is the export.
                    Some(m) => return knowledge::limiter_library(python, module, Some(m)),
                };
                knowledge::limiter_library(python, &module, Some(name))
            }
        }
    }

    pub fn add_instantiation(&mut self, class: &str, bound_to: Option<&str>) {
        let function = self.current_function();
        self.facts.instantiations.push(Instantiation {
            class: class.to_string(),
            function,
            bound_to: bound_to.map(str::to_string),
        });
    }
}

/// Combine key classes of the parts of a composite key (`f"{ip}:{path}"`):
/// any client part makes the whole a client key.
pub fn combine_keys(keys: impl IntoIterator<Item = KeyClass>) -> KeyClass {
    let mut result = KeyClass::Unknown;
    let mut params = 0;
    for k in keys {
        match k {
            KeyClass::Client(kind) => {
                result = match result {
                    KeyClass::Client(prev) => KeyClass::Client(prev.min(kind)),
                    _ => KeyClass::Client(kind),
                }
            }
            KeyClass::Param(_) => {
                params += 1;
                if result == KeyClass::Unknown {
                    result = k;
                }
            }
            KeyClass::Unknown => {}
        }
    }
    if params > 1 && !matches!(result, KeyClass::Client(_)) {
        // Two parameters combined: cannot attribute to one argument.
        return KeyClass::Unknown;
    }
    result
}

/// `combine_keys` as a fold that can be split and joined: the keys of
/// a subtree's names (and the client key found in its short
/// sub-expressions) summarised in constant space, so summaries of nested
/// subtrees can be reused (`syntax::fold`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct KeyFold {
    client: Option<ClientKeyKind>,
    first_param: Option<KeyClass>,
    /// Parameters seen, up to 2 (two make the key unattributable).
    params: u8,
    /// The first client key, in source order, matched on the text of a
    /// short sub-expression.
    pub found: Option<ClientKeyKind>,
}

impl KeyFold {
    pub fn add_key(&mut self, key: KeyClass) {
        match key {
            KeyClass::Client(kind) => {
                self.client = Some(self.client.map_or(kind, |c| c.min(kind)));
            }
            KeyClass::Param(_) => {
                self.params = (self.params + 1).min(2);
                self.first_param = self.first_param.or(Some(key));
            }
            KeyClass::Unknown => {}
        }
    }

    /// Append `later`, which follows `self` in source order.
    pub fn merge(&mut self, later: KeyFold) {
        if let Some(kind) = later.client {
            self.add_key(KeyClass::Client(kind));
        }
        self.first_param = self.first_param.or(later.first_param);
        self.params = (self.params + later.params).min(2);
        self.found = self.found.or(later.found);
    }

    /// What `combine_keys` gives for the names folded in.
    pub fn key(&self) -> KeyClass {
        match (self.client, self.first_param) {
            (Some(kind), _) => KeyClass::Client(kind),
            (None, Some(param)) if self.params == 1 => param,
            _ => KeyClass::Unknown,
        }
    }
}

/// Longest expression whose text is matched against the client-key
/// vocabulary as a whole; longer ones (a function passed as an argument, a
/// bundle's IIFE) are searched in their short sub-expressions instead, so
/// the cost stays linear in the file size.
pub const MAX_KEY_TEXT: usize = 400;

/// Classify the text of a key expression by the client-key vocabulary
/// (attribute names, header names, helper names).
pub fn key_from_text(text: &str) -> Option<ClientKeyKind> {
    let lower = text.to_ascii_lowercase();
    let mut best: Option<ClientKeyKind> = None;
    let mut consider = |k: ClientKeyKind| {
        best = Some(best.map_or(k, |b| b.min(k)));
    };
    const PEER: &[&str] = &[
        "remote_addr",
        "remoteaddress",
        "client.host",
        "get_remote_address",
        "get_ipaddr",
        "request.remote",
        "get_ident",
        "req.ip",
        "request.ip",
        "ctx.ip",
        "ctx.request.ip",
        "requestip",
        "client_ip",
        "clientip",
        "get_ip",
        "getip",
    ];
    const FORWARDED: &[&str] = &[
        "x-forwarded-for",
        "x_forwarded_for",
        "access_route",
        "x-real-ip",
        "x_real_ip",
        "cf-connecting-ip",
        "cf_connecting_ip",
        "true-client-ip",
        "x-client-ip",
        "forwarded",
    ];
    const IDENTITY: &[&str] = &[
        "api_key",
        "api-key",
        "apikey",
        "authorization",
        "user.id",
        "user_id",
        "userid",
        "user.pk",
        "user.username",
        "user.email",
        "username",
        "email",
        "phone",
        "current_user",
        "client_id",
        "clientid",
        "account_id",
        "accountid",
        "tenant_id",
        "tenantid",
        "session_id",
        "sessionid",
        "token",
    ];
    if PEER.iter().any(|p| lower.contains(p)) {
        consider(ClientKeyKind::PeerAddress);
    }
    if FORWARDED.iter().any(|p| lower.contains(p)) {
        consider(ClientKeyKind::ForwardedHeader);
    }
    if IDENTITY.iter().any(|p| lower.contains(p)) {
        consider(ClientKeyKind::Identity);
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_text_classification() {
        assert_eq!(
            key_from_text("request.remote_addr"),
            Some(ClientKeyKind::PeerAddress)
        );
        assert_eq!(
            key_from_text("request.headers.get('X-Forwarded-For')"),
            Some(ClientKeyKind::ForwardedHeader)
        );
        assert_eq!(
            key_from_text("request.user.id"),
            Some(ClientKeyKind::Identity)
        );
        assert_eq!(key_from_text("urlparse(url).netloc"), None);
        assert_eq!(key_from_text("host"), None);
    }

    #[test]
    fn combined_keys() {
        let c = KeyClass::Client(ClientKeyKind::PeerAddress);
        assert_eq!(combine_keys([KeyClass::Unknown, c]), c);
        assert_eq!(combine_keys([KeyClass::Param(0)]), KeyClass::Param(0));
        assert_eq!(
            combine_keys([KeyClass::Param(0), KeyClass::Param(1)]),
            KeyClass::Unknown
        );
    }
}
