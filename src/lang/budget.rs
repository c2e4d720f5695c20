//! A per-file time budget for parsing and analysis (issue 13). The engine
//! starts it before a file is parsed and asks at the end whether it ran
//! out; the parser (through tree-sitter's progress callback) and the
//! walkers check it as they go and stop early once it is spent, so one
//! pathological file cannot stall the run. A file over budget has partial
//! facts: the engine drops them and warns.
//!
//! The state is per thread: each file is analysed on one thread.

use std::cell::Cell;
use std::time::Instant;

thread_local! {
    static DEADLINE: Cell<Option<Instant>> = const { Cell::new(None) };
    static EXPIRED: Cell<bool> = const { Cell::new(false) };
    static TICKS: Cell<u32> = const { Cell::new(0) };
}

/// Start the budget of the file about to be analysed on this thread
/// (`None`: no limit).
pub fn start(deadline: Option<Instant>) {
    DEADLINE.with(|d| d.set(deadline));
    EXPIRED.with(|e| e.set(false));
    TICKS.with(|t| t.set(0));
}

/// End the current file's budget; `true` if it ran out.
pub fn finish() -> bool {
    DEADLINE.with(|d| d.set(None));
    EXPIRED.with(|e| e.replace(false))
}

/// Has the budget run out? Reads the clock: call it where a step of work
/// is large (a route call, a thousand nodes), or use `tick`.
pub fn out_of_time() -> bool {
    if EXPIRED.with(|e| e.get()) {
        return true;
    }
    let Some(deadline) = DEADLINE.with(|d| d.get()) else {
        return false;
    };
    let expired = Instant::now() >= deadline;
    if expired {
        EXPIRED.with(|e| e.set(true));
    }
    expired
}

/// `out_of_time`, reading the clock only every 64th call: for per-node
/// checks in the walkers.
pub fn tick() -> bool {
    if EXPIRED.with(|e| e.get()) {
        return true;
    }
    let n = TICKS.with(|t| {
        let n = t.get().wrapping_add(1);
        t.set(n);
        n
    });
    n.is_multiple_of(64) && out_of_time()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_budget_expires_and_resets() {
        start(None);
        assert!(!out_of_time());
        start(Some(Instant::now()));
        assert!(out_of_time());
        assert!(tick());
        assert!(finish());
        assert!(!out_of_time());
        assert!(!finish());
    }
}
