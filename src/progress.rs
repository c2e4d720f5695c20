//! A progress line on standard error for long runs (files done of the
//! total), for people waiting at a terminal. It appears only after a
//! second, is redrawn in place with `\r`, and is erased before anything
//! else is printed. Never in CI logs, never into a pipe or a file, and
//! never on standard output.

use std::io::Write;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Counters the engine updates as it goes.
#[derive(Debug, Default)]
pub struct Progress {
    total: AtomicUsize,
    done: AtomicUsize,
}

impl Progress {
    pub fn set_total(&self, files: usize) {
        self.total.store(files, Ordering::Relaxed);
    }

    pub fn file_done(&self) {
        self.done.fetch_add(1, Ordering::Relaxed);
    }

    fn line(&self) -> String {
        let total = self.total.load(Ordering::Relaxed);
        let done = self.done.load(Ordering::Relaxed).min(total);
        if total == 0 {
            "ratecheck: finding files".to_string()
        } else if done == total {
            format!("ratecheck: {done}/{total} files, checking the project")
        } else {
            format!("ratecheck: {done}/{total} files")
        }
    }
}

/// Whether to show the line. Only for a person at a terminal: standard
/// error is a terminal, this is not CI (`CI` set, as every CI service
/// does), `--quiet` was not given, and the report does not go into a pipe
/// (`ratecheck | less` shares the terminal with standard error; a report
/// written with `--output` does not).
pub fn wanted(
    stderr_terminal: bool,
    stdout_terminal: bool,
    report_to_file: bool,
    ci: bool,
    quiet: bool,
) -> bool {
    stderr_terminal && !ci && !quiet && (stdout_terminal || report_to_file)
}

/// `CI` set to anything but an empty string or `false`.
pub fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "false" && v != "0")
}

/// How long a run goes before the line appears, and how often it is
/// redrawn.
const DELAY: Duration = Duration::from_secs(1);
const INTERVAL: Duration = Duration::from_millis(100);

/// The thread that draws the line.
pub struct Ticker {
    stop: mpsc::Sender<()>,
    thread: std::thread::JoinHandle<()>,
}

impl Ticker {
    /// `RATECHECK_PROGRESS_DELAY_MS` overrides the one-second delay (tests).
    pub fn start(progress: Arc<Progress>) -> Ticker {
        let delay = std::env::var("RATECHECK_PROGRESS_DELAY_MS")
            .ok()
            .and_then(|v| v.trim().parse::<u64>().ok())
            .map_or(DELAY, Duration::from_millis);
        let (stop, stopped) = mpsc::channel::<()>();
        let start = Instant::now();
        let thread = std::thread::spawn(move || {
            let mut drawn = 0usize;
            let mut last = String::new();
            loop {
                // Drawn before waiting, so a zero delay always draws once.
                let elapsed = start.elapsed();
                let wait = if elapsed >= delay {
                    let line = progress.line();
                    // Only when it changed (a slow file holds the count
                    // still); padded over a longer previous line, with no
                    // escape sequences.
                    if line != last {
                        let pad = drawn.saturating_sub(line.chars().count());
                        let mut err = std::io::stderr().lock();
                        let _ = write!(err, "\r{line}{}", " ".repeat(pad));
                        let _ = err.flush();
                        drawn = line.chars().count();
                        last = line;
                    }
                    INTERVAL
                } else {
                    delay - elapsed
                };
                match stopped.recv_timeout(wait) {
                    Err(RecvTimeoutError::Timeout) => {}
                    // Stopped, or the sender was dropped.
                    _ => break,
                }
            }
            if drawn > 0 {
                let mut err = std::io::stderr().lock();
                let _ = write!(err, "\r{}\r", " ".repeat(drawn));
                let _ = err.flush();
            }
        });
        Ticker { stop, thread }
    }

    /// Stop drawing and erase the line; returns when it is erased, so what
    /// is printed next starts on a clean line.
    pub fn finish(self) {
        let _ = self.stop.send(());
        let _ = self.thread.join();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shown_only_to_a_person_at_a_terminal() {
        // (stderr terminal, stdout terminal, report to a file, CI, quiet)
        assert!(wanted(true, true, false, false, false));
        assert!(wanted(true, false, true, false, false), "-o FILE");
        assert!(!wanted(false, true, false, false, false), "stderr piped");
        assert!(!wanted(true, false, false, false, false), "report piped");
        assert!(!wanted(true, true, false, true, false), "CI");
        assert!(!wanted(true, true, false, false, true), "--quiet");
    }

    #[test]
    fn the_line_counts_files_and_names_the_last_phase() {
        let p = Progress::default();
        assert_eq!(p.line(), "ratecheck: finding files");
        p.set_total(3);
        p.file_done();
        assert_eq!(p.line(), "ratecheck: 1/3 files");
        p.file_done();
        p.file_done();
        assert_eq!(p.line(), "ratecheck: 3/3 files, checking the project");
    }
}
