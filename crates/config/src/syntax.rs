//! YAML syntax errors said in the user's terms: the parser's message names its own API
//! ("set DuplicateKeyPolicy in Options") or its grammar ("block indentation"); these say what
//! is wrong in the file and where to fix it.

use crate::diagnostic::Location;

/// A better message and hint for a parser error at `at` in `text`, when there is one.
pub(crate) fn explain(message: &str, at: Option<Location>, text: &str) -> Option<(String, String)> {
    duplicate_key(message, at, text).or_else(|| tab(message, at))
}

/// "duplicate mapping key: KEY, set DuplicateKeyPolicy in Options if acceptable …"
fn duplicate_key(message: &str, at: Option<Location>, text: &str) -> Option<(String, String)> {
    let rest = message.split("duplicate mapping key: ").nth(1)?;
    let key = rest.split(", set DuplicateKeyPolicy").next()?.trim();
    let first = at.and_then(|at| first_occurrence(key, at, text));
    let message = match first {
        Some(line) => format!("`{key}` is set twice in the same mapping (first at line {line})"),
        None => format!("`{key}` is set twice in the same mapping"),
    };
    let hint = format!("keep one `{key}:` and delete the other: YAML does not merge repeated keys");
    Some((message, hint))
}

/// The line (1-based) of the earlier `key:` in the block mapping that holds the repeat at `at`:
/// the nearest line above at the same indentation, with no line in between indented less.
fn first_occurrence(key: &str, at: Location, text: &str) -> Option<usize> {
    let indent = usize::try_from(at.column).ok()?.checked_sub(1)?;
    let repeat = usize::try_from(at.line).ok()?;
    let lines: Vec<&str> = text.lines().collect();
    for n in (0..repeat.checked_sub(1)?).rev() {
        let line = lines.get(n)?;
        let trimmed = line.trim_start_matches(' ');
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        let own = line.len() - trimmed.len();
        let item = trimmed
            .strip_prefix("- ")
            .map(|t| t.trim_start_matches(' '));
        let (own, trimmed) = match item {
            Some(t) if own < indent => (line.len() - t.len(), t),
            _ => (own, trimmed),
        };
        if own < indent {
            return None;
        }
        let unquoted = trimmed.trim_start_matches(['"', '\'']);
        if own == indent
            && unquoted.strip_prefix(key).is_some_and(|r| {
                r.trim_start_matches(['"', '\''])
                    .trim_start()
                    .starts_with(':')
            })
        {
            return Some(n + 1);
        }
    }
    None
}

/// "tabs disallowed within this context (block indentation)"
fn tab(message: &str, at: Option<Location>) -> Option<(String, String)> {
    if !message.contains("tab") {
        return None;
    }
    let place = at.map_or(String::new(), |at| {
        format!(" at line {}, column {}", at.line, at.column)
    });
    Some((
        format!("a tab indents the file{place}; YAML indents with spaces only"),
        format!("replace the tab{place} with spaces (two per level, as in the rest of the file)"),
    ))
}

#[cfg(test)]
mod tests {

    fn load_error(text: &str) -> crate::Diagnostic {
        let mut findings = crate::load(text.as_bytes()).expect_err("refused");
        assert_eq!(findings.len(), 1, "{findings:#?}");
        findings.remove(0)
    }

    /// The duplicate-key error names the key and where it was first set, not the parser's API
    /// (issue 20).
    #[test]
    fn a_repeated_key_names_its_first_line() {
        let rows = [
            (
                "domain: a.example\nhostnames: [m.a.example]\ndomain: b.example\n",
                "domain",
                Some(1),
            ),
            (
                "mailu:\n  logLevel: INFO\n  x: 1\n  logLevel: DEBUG\n",
                "logLevel",
                Some(2),
            ),
            ("a:\n  k: 1\nb:\n  k: 2\n  k: 3\n", "k", Some(4)),
            ("l:\n  - k: 1\n    k: 2\n", "k", Some(2)),
        ];
        for (text, key, first) in rows {
            let d = load_error(text);
            assert!(
                d.message.starts_with(&format!("`{key}` is set twice")),
                "{text:?}: {}",
                d.message
            );
            let line = first.map(|l| format!("(first at line {l})"));
            assert!(
                line.is_none_or(|l| d.message.ends_with(&l)),
                "{text:?}: {}",
                d.message
            );
            assert!(!d.message.contains("DuplicateKeyPolicy"), "{}", d.message);
            assert!(
                d.hint
                    .as_deref()
                    .is_some_and(|h| h.contains(&format!("`{key}:`")))
            );
        }
    }

    /// A tab in the indentation says so, and where (issue 20: it only said "fix the YAML syntax").
    #[test]
    fn a_tab_is_named() {
        let d = load_error("domain: example.com\nhostnames:\n\t- mail.example.com\n");
        assert!(
            d.message
                .contains("a tab indents the file at line 3, column"),
            "{}",
            d.message
        );
        assert!(
            d.hint.as_deref().is_some_and(|h| h.contains("with spaces")),
            "{:?}",
            d.hint
        );
    }
}
