//! The project phase: joins per-file facts. Resolves imports between
//! project files, propagates "runs per request" through calls, finds which
//! function parameters receive client keys, and which classes are
//! instantiated once for the process. Single-threaded and cheap: it only
//! touches facts.

use crate::facts::*;
use crate::knowledge;
use rayon::prelude::*;
use std::any::{Any, TypeId};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Component, Path, PathBuf};
use std::sync::{Arc, Mutex};

pub type FileId = usize;
pub type FnId = (FileId, usize);

pub struct Project {
    pub files: Vec<FileFacts>,
    /// The second-generation model over the files' IR (module id = file id).
    pub model: crate::model::Model,
    /// `request_context[file][function]`.
    request_context: Vec<Vec<bool>>,
    /// Parameters that receive a client key from some caller.
    client_params: HashSet<(FileId, usize, usize)>,
    /// Classes instantiated at module level or in a function that does not
    /// run per request (an app factory): their instances live for the process.
    process_classes: HashSet<String>,
    /// Accesses from other files to a module-level container:
    /// (defining file, container) → [(accessing file, access index)].
    imported_accesses: HashMap<(FileId, usize), Vec<(FileId, usize)>>,
    /// Per file, the project it belongs to (see `find_project_roots`).
    roots: Vec<usize>,
    /// Per project root, its production (non-test) files: rules ask for a
    /// file's project once per file, so this must not scan every file.
    production_files: HashMap<usize, Vec<FileId>>,
    paths: PathIndex,
    /// `calls[file][function][call]` → the project functions it may reach.
    calls: Vec<Vec<Vec<Vec<FnId>>>>,
    /// Callers of each function (inverse of `calls`).
    callers: HashMap<FnId, Vec<FnId>>,
    /// Per project root, what its production files say as a whole.
    summaries: HashMap<usize, ProjectSummary>,
    /// Frameworks used anywhere in the run, per language family
    /// (`[javascript, python]`), with how many files import each.
    frameworks_by_family: [BTreeMap<Framework, usize>; 2],
    /// Values a rule computes once per project and reuses for every file
    /// (see `per_project`).
    memo: Mutex<HashMap<MemoKey, Arc<dyn Any + Send + Sync>>>,
    /// Folder → the deployment files found there, read once per run.
    deployment_files: Mutex<HashMap<PathBuf, Arc<Vec<String>>>>,
}

/// Files that set the environment a deployed app runs with: slowapi (and
/// flask-limiter via python-dotenv) read `RATELIMIT_*` from `.env`,
/// uvicorn takes `FORWARDED_ALLOW_IPS` / `--proxy-headers` from the
/// environment or its command line.
const DEPLOYMENT_FILES: &[&str] = &[
    ".env",
    ".env.production",
    "docker-compose.yml",
    "docker-compose.yaml",
    "compose.yml",
    "compose.yaml",
    "Dockerfile",
    "Procfile",
];

/// (type of the value, project root, variant).
type MemoKey = (TypeId, usize, u64);

/// Project-wide facts, gathered once per project root so that rules look
/// them up instead of scanning every file of the project for every file
/// (which made the rule phase quadratic in the file count).
#[derive(Debug, Default)]
pub struct ProjectSummary {
    /// Request-logging middleware somewhere (every 429 is in the access log).
    pub access_logging: bool,
    /// A global handler for store errors.
    pub store_error_handler: bool,
    /// DRF `DEFAULT_THROTTLE_RATES` configured.
    pub django_throttle_rates: bool,
    /// Project classes that override DRF's `get_ident`.
    pub drf_ident_classes: HashSet<String>,
    /// Limiter libraries set up anywhere (`LIMITER_LIBRARIES` indexes).
    pub limiter_libraries: HashSet<usize>,
    /// Names limiter instances are bound to.
    pub limiter_bound_names: HashSet<String>,
    /// Proxy settings: (file, index into its `proxy_settings`).
    pub proxy_settings: Vec<(FileId, usize)>,
    /// Configuration names → the files that mention them.
    pub config_files: HashMap<String, Vec<FileId>>,
}

impl ProjectSummary {
    fn add(&mut self, fi: FileId, f: &FileFacts) {
        self.access_logging |= f.access_logging;
        self.store_error_handler |= f.store_error_handler;
        self.django_throttle_rates |= f.django.throttle_rates;
        self.drf_ident_classes
            .extend(f.drf_ident_classes.iter().cloned());
        for s in &f.limiter_setups {
            self.limiter_libraries.insert(s.library);
            if let Some(name) = &s.bound_to {
                self.limiter_bound_names.insert(name.clone());
            }
        }
        self.proxy_settings
            .extend((0..f.proxy_settings.len()).map(|i| (fi, i)));
        for name in &f.config_names {
            self.config_files.entry(name.clone()).or_default().push(fi);
        }
    }
}

impl Project {
    pub fn build(mut files: Vec<FileFacts>) -> Project {
        files.sort_by(|a, b| a.path.cmp(&b.path));
        let modules = files
            .iter_mut()
            .map(|f| match f.ir.take() {
                Some(m) => *m,
                None => crate::ir::Module::empty(f.path.clone(), f.lang),
            })
            .collect();
        let model = crate::model::Model::build(modules);
        let mut functions_by_name: HashMap<String, Vec<FnId>> = HashMap::new();
        for (fi, f) in files.iter().enumerate() {
            for (i, func) in f.functions.iter().enumerate() {
                functions_by_name
                    .entry(func.name.clone())
                    .or_default()
                    .push((fi, i));
            }
        }
        let resolver = CallResolver::new(&files, functions_by_name);
        // Read-only over the facts, so resolved per file in parallel.
        let calls: Vec<Vec<Vec<Vec<FnId>>>> = files
            .par_iter()
            .enumerate()
            .map(|(fi, f)| {
                f.functions
                    .iter()
                    .map(|func| {
                        func.calls
                            .iter()
                            .map(|c| resolver.targets(&files, fi, func, c))
                            .collect()
                    })
                    .collect()
            })
            .collect();
        let mut callers: HashMap<FnId, Vec<FnId>> = HashMap::new();
        for (fi, per_file) in calls.iter().enumerate() {
            for (i, per_fn) in per_file.iter().enumerate() {
                for target in per_fn.iter().flatten() {
                    callers.entry(*target).or_default().push((fi, i));
                }
            }
        }
        let roots = find_project_roots(&files);
        let mut production_files: HashMap<usize, Vec<FileId>> = HashMap::new();
        let mut summaries: HashMap<usize, ProjectSummary> = HashMap::new();
        let mut frameworks_by_family: [BTreeMap<Framework, usize>; 2] = Default::default();
        for (fi, f) in files.iter().enumerate() {
            let family = usize::from(f.lang.is_some_and(|l| l.is_python()));
            for fw in &f.frameworks {
                *frameworks_by_family[family].entry(*fw).or_default() += 1;
            }
            if !knowledge::is_test_path(&f.path) {
                production_files.entry(roots[fi]).or_default().push(fi);
                summaries.entry(roots[fi]).or_default().add(fi, f);
            }
        }
        let mut project = Project {
            model,
            production_files,
            summaries,
            frameworks_by_family,
            memo: Mutex::new(HashMap::new()),
            deployment_files: Mutex::new(HashMap::new()),
            request_context: Vec::new(),
            client_params: HashSet::new(),
            process_classes: HashSet::new(),
            imported_accesses: HashMap::new(),
            roots,
            paths: PathIndex::new(&files),
            calls,
            callers,
            files,
        };
        project.propagate_request_context();
        project.propagate_client_params();
        project.find_process_classes();
        project.join_imported_accesses();
        project
    }

    fn propagate_request_context(&mut self) {
        let mut rc: Vec<Vec<bool>> = self
            .files
            .iter()
            .map(|f| {
                f.functions
                    .iter()
                    .map(|func| func.request_context)
                    .collect()
            })
            .collect();
        let mut work: Vec<FnId> = Vec::new();
        for (fi, fns) in rc.iter().enumerate() {
            for (i, on) in fns.iter().enumerate() {
                if *on {
                    work.push((fi, i));
                }
            }
        }
        let mut inline_children: HashMap<FnId, Vec<FnId>> = HashMap::new();
        for (fi, f) in self.files.iter().enumerate() {
            for (i, func) in f.functions.iter().enumerate() {
                if let (true, Some(p)) = (func.inline, func.parent) {
                    inline_children.entry((fi, p)).or_default().push((fi, i));
                }
            }
        }
        while let Some((fi, i)) = work.pop() {
            for &(cf, ci) in inline_children.get(&(fi, i)).into_iter().flatten() {
                if !rc[cf][ci] {
                    rc[cf][ci] = true;
                    work.push((cf, ci));
                }
            }
            for targets in &self.calls[fi][i] {
                for &(tf, ti) in targets {
                    if !rc[tf][ti] {
                        rc[tf][ti] = true;
                        work.push((tf, ti));
                    }
                }
            }
        }
        self.request_context = rc;
    }

    fn propagate_client_params(&mut self) {
        // A few rounds reach helper chains (`view → check(ip) → hit(key)`).
        for _ in 0..4 {
            let mut changed = false;
            for (fi, f) in self.files.iter().enumerate() {
                for (ci, caller) in f.functions.iter().enumerate() {
                    for (call, targets) in caller.calls.iter().zip(&self.calls[fi][ci]) {
                        for &(tf, ti) in targets {
                            for (ai, arg) in call.args.iter().enumerate() {
                                let is_client = match arg {
                                    KeyClass::Client(_) => true,
                                    KeyClass::Param(p) => {
                                        self.client_params.contains(&(fi, ci, *p))
                                    }
                                    KeyClass::Unknown => false,
                                };
                                if is_client
                                    && ai < self.files[tf].functions[ti].params.len()
                                    && self.client_params.insert((tf, ti, ai))
                                {
                                    changed = true;
                                }
                            }
                        }
                    }
                }
            }
            if !changed {
                break;
            }
        }
    }

    fn find_process_classes(&mut self) {
        for (fi, f) in self.files.iter().enumerate() {
            for inst in &f.instantiations {
                let once = match inst.function {
                    None => true,
                    Some(func) => !self.request_context[fi][func],
                };
                if once {
                    self.process_classes.insert(inst.class.clone());
                }
            }
        }
    }

    fn join_imported_accesses(&mut self) {
        let index = &self.paths;
        let mut joined: HashMap<(FileId, usize), Vec<(FileId, usize)>> = HashMap::new();
        for (fi, f) in self.files.iter().enumerate() {
            for (ai, access) in f.accesses.iter().enumerate() {
                let ContainerRef::Imported { module, name } = &access.container else {
                    continue;
                };
                let Some(target) =
                    index.resolve(&f.path, module, f.lang.is_some_and(|l| l.is_python()))
                else {
                    continue;
                };
                let found = self.files[target]
                    .containers
                    .iter()
                    .position(|c| c.scope == ContainerScope::Module && &c.name == name);
                if let Some(ci) = found {
                    joined.entry((target, ci)).or_default().push((fi, ai));
                }
            }
        }
        self.imported_accesses = joined;
    }

    // ------------------------------------------------------------- queries

    pub fn is_request_context(&self, f: FnId) -> bool {
        self.request_context[f.0][f.1]
    }

    pub fn function(&self, f: FnId) -> &Function {
        &self.files[f.0].functions[f.1]
    }

    /// Whether the access's key identifies the caller, following parameters
    /// to what callers pass.
    pub fn key_is_client(&self, file: FileId, access: &StateAccess) -> bool {
        self.key_class_is_client(file, access.function, access.key)
    }

    pub fn key_class_is_client(
        &self,
        file: FileId,
        function: Option<usize>,
        key: KeyClass,
    ) -> bool {
        match key {
            KeyClass::Client(_) => true,
            KeyClass::Param(p) => {
                function.is_some_and(|func| self.client_params.contains(&(file, func, p)))
            }
            KeyClass::Unknown => false,
        }
    }

    /// The project file an import in `file` refers to.
    pub fn resolve_import(&self, file: FileId, module: &str) -> Option<FileId> {
        let f = &self.files[file];
        self.paths
            .resolve(&f.path, module, f.lang.is_some_and(|l| l.is_python()))
    }

    /// Production files of the same project as `file` (one run may cover
    /// several projects of a monorepo): where its configuration can live.
    pub fn project_files(&self, file: FileId) -> impl Iterator<Item = &FileFacts> + '_ {
        self.production_files
            .get(&self.roots[file])
            .into_iter()
            .flatten()
            .map(|&fi| &self.files[fi])
    }

    /// What the production files of `file`'s project say as a whole.
    pub fn summary(&self, file: FileId) -> &ProjectSummary {
        static EMPTY: std::sync::OnceLock<ProjectSummary> = std::sync::OnceLock::new();
        self.summaries
            .get(&self.roots[file])
            .unwrap_or_else(|| EMPTY.get_or_init(ProjectSummary::default))
    }

    /// A value computed once per project (root of `file`) and `variant`,
    /// then shared by every file of that project: for rule context that
    /// depends only on the project. Two threads may both compute it once;
    /// the first stored wins.
    pub fn per_project<T: Any + Send + Sync>(
        &self,
        file: FileId,
        variant: u64,
        make: impl FnOnce() -> T,
    ) -> Arc<T> {
        self.memoised((TypeId::of::<T>(), self.roots[file], variant), make)
    }

    /// A value computed once per run and shared by every file (the
    /// project-model queries that cross files). See `per_project`.
    pub fn per_run<T: Any + Send + Sync>(&self, make: impl FnOnce() -> T) -> Arc<T> {
        self.memoised((TypeId::of::<T>(), usize::MAX, 0), make)
    }

    fn memoised<T: Any + Send + Sync>(&self, key: MemoKey, make: impl FnOnce() -> T) -> Arc<T> {
        let cached = self
            .memo
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(&key)
            .cloned();
        if let Some(hit) = cached.and_then(|v| v.downcast::<T>().ok()) {
            return hit;
        }
        let made: Arc<T> = Arc::new(make());
        let mut memo = self.memo.lock().unwrap_or_else(|e| e.into_inner());
        let stored = memo.entry(key).or_insert_with(|| made.clone()).clone();
        stored.downcast::<T>().unwrap_or(made)
    }

    /// Do the deployment files beside `file` or in the folders above it
    /// (six levels) mention any of `names`? Each folder is read once.
    pub fn deployment_files_mention(&self, file: FileId, names: &[&str]) -> bool {
        let path = &self.files[file].path;
        let start = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
        start.ancestors().skip(1).take(6).any(|dir| {
            let cached = self
                .deployment_files
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .get(dir)
                .cloned();
            let texts = cached.unwrap_or_else(|| {
                let read: Arc<Vec<String>> = Arc::new(
                    DEPLOYMENT_FILES
                        .iter()
                        .map(|f| dir.join(f))
                        // Only regular files of sane size: a FIFO or device
                        // named `.env` must not block or exhaust the run.
                        .filter(|p| {
                            std::fs::metadata(p).is_ok_and(|m| m.is_file() && m.len() < 1 << 20)
                        })
                        .filter_map(|p| std::fs::read_to_string(p).ok())
                        .collect(),
                );
                self.deployment_files
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .insert(dir.to_path_buf(), read.clone());
                read
            });
            texts
                .iter()
                .any(|text| names.iter().any(|n| text.contains(n)))
        })
    }

    /// Ids of the production files of the same project as `file`.
    pub fn project_file_ids(&self, file: FileId) -> impl Iterator<Item = FileId> + '_ {
        self.production_files
            .get(&self.roots[file])
            .into_iter()
            .flatten()
            .copied()
    }

    /// What the project of `file` configures under any of `names`
    /// (`RATELIMIT_STORAGE_URI`, …).
    pub fn config_setting(&self, file: FileId, names: &[&str]) -> ConfigSetting {
        let mut found = ConfigSetting::Absent;
        let summary = self.summary(file);
        for name in names {
            for &fi in summary.config_files.get(*name).into_iter().flatten() {
                let f = &self.files[fi];
                // Several values (a dev and a prod config class): any shared
                // one wins; a mention without a literal value is unknown,
                // so treated as shared (silence).
                let is_memory =
                    |v: &String| v.starts_with("memory://") || v.starts_with("async+memory://");
                match f.config_values.get(*name) {
                    Some(values) if values.iter().all(is_memory) => found = ConfigSetting::Memory,
                    _ => return ConfigSetting::Shared,
                }
            }
        }
        found
    }

    /// The project functions `f` calls (resolved call sites).
    pub fn callees_of(&self, f: FnId) -> impl Iterator<Item = FnId> + '_ {
        self.calls[f.0][f.1].iter().flatten().copied()
    }

    /// The call sites that reach `target`, with their callers.
    pub fn call_sites_to(&self, target: FnId) -> Vec<(FnId, &CallSite)> {
        let mut callers: Vec<FnId> = self.callers_of(target).to_vec();
        callers.sort();
        callers.dedup();
        let mut out = Vec::new();
        for caller in callers {
            let (cf, ci) = caller;
            for (k, targets) in self.calls[cf][ci].iter().enumerate() {
                if targets.contains(&target) {
                    out.push((caller, &self.files[cf].functions[ci].calls[k]));
                }
            }
        }
        out
    }

    /// Whether a container lives as long as the process (as opposed to one
    /// request or one short-lived object).
    pub fn lives_for_process(&self, file: FileId, container: &Container) -> bool {
        match &container.scope {
            ContainerScope::Module | ContainerScope::ClassAttr { .. } => true,
            ContainerScope::InstanceAttr { class } => self.process_classes.contains(class),
            ContainerScope::Closure { factory } => !self.is_request_context((file, *factory)),
        }
    }

    /// Every access to a container: from its own file and, for module-level
    /// containers, from files that import it.
    pub fn accesses_of(&self, file: FileId, container: usize) -> Vec<(FileId, &StateAccess)> {
        let mut out: Vec<(FileId, &StateAccess)> = self.files[file]
            .accesses
            .iter()
            .filter(|a| a.container == ContainerRef::Local(container))
            .map(|a| (file, a))
            .collect();
        if let Some(imported) = self.imported_accesses.get(&(file, container)) {
            out.extend(
                imported
                    .iter()
                    .map(|(fi, ai)| (*fi, &self.files[*fi].accesses[*ai])),
            );
        }
        out
    }

    /// `f` and, while `f` is an inline callback, its enclosing functions:
    /// the code that decides what the callback's result means.
    pub fn with_inline_parents(&self, f: FnId) -> Vec<FnId> {
        let mut chain = vec![f];
        let mut current = f;
        while self.function(current).inline {
            match self.function(current).parent {
                Some(p) => {
                    current = (f.0, p);
                    chain.push(current);
                }
                None => break,
            }
        }
        chain
    }

    pub fn callers_of(&self, f: FnId) -> &[FnId] {
        self.callers.get(&f).map(Vec::as_slice).unwrap_or(&[])
    }

    /// Named like a limiter (the function, or the class it belongs to), by
    /// the rules page's pattern or the user's `limiter-names`.
    pub fn is_limiter_named(&self, f: FnId, extra_names: &[String]) -> bool {
        let func = self.function(f);
        let named = |n: &str| knowledge::is_limiter_name(n) || extra_names.iter().any(|e| e == n);
        named(&func.name) || func.class.as_deref().is_some_and(named)
    }

    /// The framework to name in help lines for code in `function` of
    /// `file`: the file's own imports, else those of the files whose
    /// per-request code calls it, else the one framework the project uses
    /// for that language family, else none.
    pub fn framework_for(&self, file: FileId, function: Option<usize>) -> Option<Framework> {
        let f = &self.files[file];
        if let Some(fw) = f.frameworks.iter().next() {
            return Some(*fw);
        }
        if let Some(func) = function {
            let from_callers = self
                .callers_of((file, func))
                .iter()
                .filter_map(|(cf, _)| self.files[*cf].frameworks.iter().next())
                .min();
            if let Some(fw) = from_callers {
                return Some(*fw);
            }
        }
        let seen = &self.frameworks_by_family[usize::from(f.lang.is_some_and(|l| l.is_python()))];
        if seen.len() == 1 {
            seen.keys().next().copied()
        } else {
            None
        }
    }
}

/// What a project's configuration says about a store.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConfigSetting {
    Absent,
    /// Set to `memory://`.
    Memory,
    /// Set to anything else (a shared URI, or a value read at run time).
    Shared,
}

/// The project each file belongs to: the nearest folder above it with a
/// project marker (`pyproject.toml`, `package.json`, `.git`, …). Files
/// with no marker above them form one project.
fn find_project_roots(files: &[FileFacts]) -> Vec<usize> {
    const MARKERS: &[&str] = &[
        "pyproject.toml",
        "setup.py",
        "setup.cfg",
        "requirements.txt",
        "Pipfile",
        "manage.py",
        "package.json",
        ".git",
    ];
    let mut by_dir: HashMap<PathBuf, Option<PathBuf>> = HashMap::new();
    let mut ids: HashMap<Option<PathBuf>, usize> = HashMap::new();
    files
        .iter()
        .map(|f| {
            let abs = std::fs::canonicalize(&f.path).unwrap_or_else(|_| f.path.clone());
            let dir = abs.parent().map(Path::to_path_buf).unwrap_or_default();
            let root = by_dir
                .entry(dir.clone())
                .or_insert_with(|| {
                    dir.ancestors()
                        .find(|d| is_project_root(d, MARKERS))
                        .map(Path::to_path_buf)
                })
                .clone();
            let next = ids.len();
            *ids.entry(root).or_insert(next)
        })
        .collect()
}

/// A folder with a project marker. A Python package (a folder with
/// `__init__.py`) is a root only by a manifest: a module of the package
/// may be called `setup.py` or `manage.py` (redash's `handlers/setup.py`).
fn is_project_root(dir: &Path, markers: &[&str]) -> bool {
    let package = dir.join("__init__.py").exists();
    markers
        .iter()
        .any(|m| (!package || !matches!(*m, "setup.py" | "manage.py")) && dir.join(m).exists())
}

/// Decides which project functions a call site may reach. Functions are
/// matched by name, then by receiver, so `allowlist.check(ip)` does not
/// reach an unrelated `HostThrottle.check`:
/// - `self.m()` / `this.m()` reach methods when the caller is a method;
/// - `x.m()` reaches `C.m` when `x` holds an instance of `C` (`x = C()`,
///   or an anonymous export of one imported as `x`), when `x` is `C`
///   itself, or when the names say so (`rate_limiter` ~ `RateLimiter`);
/// - `m()` reaches functions that are not methods; `mod.m()` reaches them
///   when `mod` is an import; methods of objects built in a factory (nested
///   functions) are reached through any receiver.
struct CallResolver {
    functions_by_name: HashMap<String, Vec<FnId>>,
    /// Class → names its instances are stored under (`None`: anonymous).
    instances: HashMap<String, Vec<Option<String>>>,
}

impl CallResolver {
    fn new(files: &[FileFacts], functions_by_name: HashMap<String, Vec<FnId>>) -> CallResolver {
        let mut instances: HashMap<String, Vec<Option<String>>> = HashMap::new();
        for f in files {
            for inst in &f.instantiations {
                instances
                    .entry(inst.class.clone())
                    .or_default()
                    .push(inst.bound_to.clone());
            }
        }
        CallResolver {
            functions_by_name,
            instances,
        }
    }

    fn targets(
        &self,
        files: &[FileFacts],
        caller_file: FileId,
        caller: &Function,
        call: &CallSite,
    ) -> Vec<FnId> {
        let Some(candidates) = self.functions_by_name.get(&*call.callee) else {
            return Vec::new();
        };
        // A name defined this often (`get`, `handle`, `run`) says nothing
        // about which one is meant: keep only the caller's own file. This
        // also keeps the phase linear on big code bases.
        let generic = candidates.len() >= GENERIC_NAME_DEFINITIONS;
        let imports = &files[caller_file].imports;
        let is_import = |name: &str| imports.iter().any(|i| i.local == name);
        candidates
            .iter()
            .copied()
            .filter(|&(tf, _)| !generic || tf == caller_file)
            .filter(|&(tf, ti)| {
                let target = &files[tf].functions[ti];
                match (&target.class, call.receiver.as_deref()) {
                    (None, None) => true,
                    (None, Some(r)) => target.parent.is_some() || is_import(r),
                    (Some(class), None) => caller.class.as_ref() == Some(class),
                    (Some(_), Some("self" | "this" | "cls" | "super")) => caller.class.is_some(),
                    (Some(class), Some(r)) => {
                        r == class
                            || self.instances.get(class).is_some_and(|names| {
                                names.iter().any(|n| match n {
                                    Some(n) => n == r,
                                    None => is_import(r),
                                })
                            })
                            || similar_names(r, class)
                    }
                }
            })
            .collect()
    }
}

/// See `CallResolver::targets`.
const GENERIC_NAME_DEFINITIONS: usize = 64;

/// `rate_limiter` ~ `RateLimiter`, `limiter` ~ `RateLimiter`.
fn similar_names(receiver: &str, class: &str) -> bool {
    let norm = |s: &str| {
        s.chars()
            .filter(|c| c.is_ascii_alphanumeric())
            .collect::<String>()
            .to_ascii_lowercase()
    };
    let (r, c) = (norm(receiver), norm(class));
    r.len() >= 4 && (c.contains(&r) || r.contains(&c))
}

/// Finds project files by the module names used in imports.
pub(crate) struct PathIndex {
    /// Normalised path without extension → file.
    by_stem_path: HashMap<PathBuf, FileId>,
    /// Module name (file stem, or the folder of an `__init__`/`index`)
    /// → files, so absolute imports do not scan every file.
    by_module_name: HashMap<String, Vec<(PathBuf, FileId)>>,
}

const JS_EXTENSIONS: &[&str] = &["js", "ts", "mjs", "cjs", "jsx", "tsx", "mts", "cts"];

impl PathIndex {
    fn new(files: &[FileFacts]) -> PathIndex {
        PathIndex::from_paths(files.iter().map(|f| f.path.as_path()))
    }

    /// An index of `paths`; a file's id is its position.
    pub(crate) fn from_paths<'a>(paths: impl IntoIterator<Item = &'a Path>) -> PathIndex {
        let mut by_stem_path = HashMap::new();
        let mut by_module_name: HashMap<String, Vec<(PathBuf, FileId)>> = HashMap::new();
        for (i, path) in paths.into_iter().enumerate() {
            let stem_path = normalize(&path.with_extension(""));
            let stem = stem_path
                .file_name()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_default();
            let module = if stem == "__init__" || stem == "index" {
                stem_path
                    .parent()
                    .and_then(|p| p.file_name())
                    .map(|s| s.to_string_lossy().into_owned())
                    .unwrap_or_default()
            } else {
                stem
            };
            by_module_name
                .entry(module)
                .or_default()
                .push((stem_path.clone(), i));
            by_stem_path.insert(stem_path, i);
        }
        PathIndex {
            by_stem_path,
            by_module_name,
        }
    }

    fn lookup(&self, candidate: &Path) -> Option<FileId> {
        let c = normalize(candidate);
        let module_file = self.by_stem_path.get(&c);
        let package = self
            .by_stem_path
            .get(&c.join("__init__"))
            .or_else(|| self.by_stem_path.get(&c.join("index")));
        module_file.or(package).copied()
    }

    /// Resolve an import of `module` written in `from_file`.
    pub(crate) fn resolve(&self, from_file: &Path, module: &str, python: bool) -> Option<FileId> {
        let dir = from_file.parent().unwrap_or(Path::new(""));
        if python {
            let dots = module.chars().take_while(|c| *c == '.').count();
            let rest: PathBuf = module[dots..]
                .split('.')
                .filter(|s| !s.is_empty())
                .collect();
            if dots > 0 {
                let mut base = dir.to_path_buf();
                for _ in 1..dots {
                    base.pop();
                }
                return self.lookup(&base.join(rest));
            }
            // Absolute module: the deepest project file whose path ends with it.
            return self.suffix_lookup(&rest);
        }
        if module.starts_with("./") || module.starts_with("../") {
            let joined = dir.join(module);
            let without_ext = match joined.extension().and_then(|e| e.to_str()) {
                Some(e) if JS_EXTENSIONS.contains(&e) => joined.with_extension(""),
                _ => joined.clone(),
            };
            return self.lookup(&without_ext).or_else(|| self.lookup(&joined));
        }
        // Path aliases such as `@/lib/x` or `~/lib/x` (tsconfig paths).
        let stripped = module
            .strip_prefix("@/")
            .or_else(|| module.strip_prefix("~/"))?;
        self.suffix_lookup(Path::new(stripped))
    }

    fn suffix_lookup(&self, rest: &Path) -> Option<FileId> {
        let rest = normalize(rest);
        let last = rest.file_name()?.to_string_lossy().into_owned();
        let mut best: Option<(usize, FileId)> = None;
        for (path, id) in self.by_module_name.get(&last).into_iter().flatten() {
            let matches = path.ends_with(&rest)
                || path.ends_with(rest.join("__init__"))
                || path.ends_with(rest.join("index"));
            if matches {
                let depth = path.components().count();
                if best.is_none_or(|(d, i)| depth < d || (depth == d && *id < i)) {
                    best = Some((depth, *id));
                }
            }
        }
        best.map(|(_, id)| id)
    }
}

/// Lexically normalise `a/./b/../c` → `a/c` (no file system access).
fn normalize(p: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in p.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                if !out.pop() {
                    out.push("..");
                }
            }
            other => out.push(other.as_os_str()),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(path: &str) -> FileFacts {
        FileFacts {
            path: PathBuf::from(path),
            ..Default::default()
        }
    }

    #[test]
    fn resolves_python_and_js_imports() {
        let files = vec![
            file("app/limiter.py"),
            file("app/views.py"),
            file("pkg/__init__.py"),
            file("web/store.ts"),
            file("web/routes/index.js"),
            file("web/routes/users.js"),
        ];
        let idx = PathIndex::new(&files);
        assert_eq!(
            idx.resolve(Path::new("app/views.py"), ".limiter", true),
            Some(0)
        );
        assert_eq!(
            idx.resolve(Path::new("app/views.py"), "app.limiter", true),
            Some(0)
        );
        assert_eq!(idx.resolve(Path::new("app/views.py"), "pkg", true), Some(2));
        assert_eq!(
            idx.resolve(Path::new("web/routes/users.js"), "../store", false),
            Some(3)
        );
        assert_eq!(
            idx.resolve(Path::new("web/app.js"), "./routes", false),
            Some(4)
        );
        assert_eq!(
            idx.resolve(Path::new("web/app.js"), "./routes/users.js", false),
            Some(5)
        );
        assert_eq!(idx.resolve(Path::new("web/app.js"), "express", false), None);
    }
}
