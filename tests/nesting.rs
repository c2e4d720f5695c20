//! Analysis time must be linear in nesting depth (issue 13): 5,000 nested
//! call arguments once took 2.3 s against 0.05 s to parse, because the key
//! of every call's arguments was worked out by walking them again. Each
//! case here is timed in-process against a parse of the same text; the
//! bound is generous (debug builds run the Rust analysis unoptimised, so
//! its ratio to the C parser is higher than in release, where these cases
//! measure 1.5-3x), while the quadratic behaviour measured over 100x.

use ratecheck::engine::extract_facts;
use ratecheck::lang::{parse, Lang};
use std::path::Path;
use std::time::{Duration, Instant};

fn best_of(runs: usize, mut f: impl FnMut()) -> Duration {
    (0..runs)
        .map(|_| {
            let start = Instant::now();
            f();
            start.elapsed()
        })
        .min()
        .unwrap()
}

fn nested(open: &str, inner: &str, close: &str, depth: usize) -> String {
    format!("{}{inner}{}", open.repeat(depth), close.repeat(depth))
}

/// Deep Python indentation: nested `if` blocks and functions, one space
/// per level.
fn python_indentation(depth: usize) -> String {
    let mut s = String::from("from flask import request\nhits = {}\n");
    for i in 0..depth {
        let head = if i % 2 == 0 {
            "if request.remote_addr:".to_string()
        } else {
            format!("def f{i}(request):")
        };
        s += &format!("{}{head}\n", " ".repeat(i));
    }
    s += &format!("{}hits[request.remote_addr] = 1\n", " ".repeat(depth));
    s
}

#[test]
fn nesting_costs_linear_time() {
    // The engine analyses on threads with 64 MB stacks; so does this test.
    std::thread::Builder::new()
        .stack_size(64 * 1024 * 1024)
        .spawn(check_nesting)
        .unwrap()
        .join()
        .unwrap();
}

fn check_nesting() {
    const DEPTH: usize = 10_000;
    let js_prefix =
        "const express = require('express');\nconst app = express();\nconst hits = new Map();\n";
    let cases: Vec<(&str, Lang, &str, String)> = vec![
        (
            "10,000 nested calls (JS)",
            Lang::JavaScript,
            "deep.js",
            format!("{js_prefix}const y = {};\n", nested("f(", "x", ")", DEPTH)),
        ),
        (
            "10,000 nested calls with a client key (TS)",
            Lang::TypeScript,
            "deep.ts",
            format!(
                "{js_prefix}app.get('/a', (req, res) => {{ g({}); }});\n",
                nested("f(req.ip, ", "x", ")", DEPTH)
            ),
        ),
        (
            "10,000 nested calls (Python)",
            Lang::Python,
            "deep.py",
            format!("y = {}\n", nested("f(", "x", ")", DEPTH)),
        ),
        (
            "10,000 nested calls with a client key (Python)",
            Lang::Python,
            "deep_key.py",
            format!(
                "from flask import request\ny = {}\n",
                nested("f(request.remote_addr, ", "x", ")", DEPTH)
            ),
        ),
        (
            "10,000 nested lists (Python)",
            Lang::Python,
            "lists.py",
            format!("y = {}\n", nested("[", "1", "]", DEPTH)),
        ),
        (
            "600 levels of indentation (Python)",
            Lang::Python,
            "indent.py",
            python_indentation(600),
        ),
    ];
    for (name, lang, path, text) in &cases {
        let parse_time = best_of(2, || {
            parse(*lang, text).expect("parses");
        });
        // Extraction includes its own parse.
        let full_time = best_of(2, || {
            extract_facts(Path::new(path), *lang, text).expect("parses");
        });
        let bound = parse_time * 25 + Duration::from_millis(100);
        eprintln!("{name}: parse {parse_time:?}, parse and analysis {full_time:?}");
        assert!(
            full_time <= bound,
            "{name}: parse and analysis took {full_time:?}, parse alone {parse_time:?}"
        );
    }
}
