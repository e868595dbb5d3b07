//! A small, deterministic YAML writer for JSON-shaped values.
//!
//! Output is block style with two-space indents. A string is written plain only when no YAML
//! 1.1 or 1.2 reader could take it for anything else (a number, a boolean, null, a timestamp-ish
//! or a structure); a multi-line string (a configuration file) as a literal block so it reads
//! as the file it is; anything else double-quoted with JSON escapes, which YAML reads verbatim.

use serde_json::Value;

/// Writes one document (no `---`).
pub fn to_yaml(value: &Value) -> String {
    let mut out = String::new();
    match value {
        Value::Object(map) if !map.is_empty() => write_map(map, 0, &mut out),
        Value::Array(items) if !items.is_empty() => write_seq(items, 0, &mut out),
        scalar => {
            out.push_str(&scalar_text(scalar));
            out.push('\n');
        }
    }
    out
}

fn indent(out: &mut String, n: usize) {
    out.extend(std::iter::repeat_n(' ', n));
}

fn write_map(map: &serde_json::Map<String, Value>, level: usize, out: &mut String) {
    for (key, value) in map {
        indent(out, level);
        out.push_str(&string_text(key));
        out.push(':');
        write_value_after_key(value, level, out);
    }
}

fn write_value_after_key(value: &Value, level: usize, out: &mut String) {
    match value {
        Value::Object(m) if !m.is_empty() => {
            out.push('\n');
            write_map(m, level + 2, out);
        }
        Value::Array(items) if !items.is_empty() => {
            out.push('\n');
            write_seq(items, level + 2, out);
        }
        Value::String(s) if is_block_safe(s) => write_block(s, level + 2, out),
        scalar => {
            out.push(' ');
            out.push_str(&scalar_text(scalar));
            out.push('\n');
        }
    }
}

/// Whether `s` can be written as a literal block (`|`) and read back byte for byte.
fn is_block_safe(s: &str) -> bool {
    s.contains('\n')
        && !s.starts_with([' ', '\n'])
        && s.chars().all(|c| c == '\n' || !c.is_control())
        && !s.lines().any(|l| l.ends_with(' ') || l.ends_with('\t'))
}

/// A literal block: `|` keeps one final newline, `|-` none, `|+` all of them.
fn write_block(s: &str, indent_by: usize, out: &mut String) {
    let body = s.trim_end_matches('\n');
    let trailing = s.len() - body.len();
    out.push_str(match trailing {
        0 => " |-\n",
        1 => " |\n",
        _ => " |+\n",
    });
    for line in body.split('\n') {
        if !line.is_empty() {
            indent(out, indent_by);
            out.push_str(line);
        }
        out.push('\n');
    }
    for _ in 1..trailing {
        out.push('\n');
    }
}

fn write_seq(items: &[Value], level: usize, out: &mut String) {
    for item in items {
        indent(out, level);
        out.push('-');
        match item {
            Value::Object(m) if !m.is_empty() => {
                // First pair on the dash line, the rest aligned under it.
                let mut first = true;
                for (key, value) in m {
                    if first {
                        out.push(' ');
                        first = false;
                    } else {
                        indent(out, level + 2);
                    }
                    out.push_str(&string_text(key));
                    out.push(':');
                    write_value_after_key(value, level + 2, out);
                }
            }
            Value::Array(inner) if !inner.is_empty() => {
                out.push('\n');
                write_seq(inner, level + 2, out);
            }
            scalar => {
                out.push(' ');
                out.push_str(&scalar_text(scalar));
                out.push('\n');
            }
        }
    }
}

fn scalar_text(value: &Value) -> String {
    match value {
        Value::Null => "null".into(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        Value::String(s) => string_text(s),
        Value::Object(_) => "{}".into(),
        Value::Array(_) => "[]".into(),
    }
}

fn string_text(s: &str) -> String {
    if is_plain_safe(s) {
        s.to_owned()
    } else {
        // A JSON string literal is a valid YAML double-quoted scalar.
        serde_json::Value::String(s.to_owned()).to_string()
    }
}

/// Whether `s` reads back as the same string when written plain, in YAML 1.1 and 1.2 alike.
fn is_plain_safe(s: &str) -> bool {
    let Some(first) = s.chars().next() else {
        return false;
    };
    if !(first.is_ascii_alphanumeric() || first == '/' || first == '.' || first == '_') {
        return false;
    }
    if s.ends_with(':') || s.ends_with(' ') {
        return false;
    }
    if !s
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || "._/-@:=+,()".contains(c))
    {
        return false;
    }
    if s.contains(": ") || s.contains(":/") && first.is_ascii_digit() {
        return false;
    }
    let lower = s.to_ascii_lowercase();
    const SPECIAL: &[&str] = &[
        "true", "false", "yes", "no", "on", "off", "y", "n", "null", "~", ".inf", ".nan",
    ];
    if SPECIAL.contains(&lower.as_str()) {
        return false;
    }
    // Anything that starts like a number (ints, floats, 1e3, 0x1f, 1:30 sexagesimal, dates,
    // version-like 2024.06) is quoted: some reader somewhere would take it for one.
    if first.is_ascii_digit() || (first == '.' && s.len() > 1) {
        return false;
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn ambiguous_strings_are_quoted() {
        let cases = [
            ("2024.06", "\"2024.06\""),
            ("25,80,443", "\"25,80,443\""),
            ("true", "\"true\""),
            ("No", "\"No\""),
            ("", "\"\""),
            ("0644", "\"0644\""),
            ("1:30", "\"1:30\""),
            ("a: b", "\"a: b\""),
            ("*x", "\"*x\""),
            ("- x", "\"- x\""),
            ("line\nbreak", "\"line\\nbreak\""),
            ("#c", "\"#c\""),
            ("50Gi", "\"50Gi\""),
        ];
        for (raw, want) in cases {
            assert_eq!(string_text(raw), want, "{raw}");
        }
        for plain in [
            "mailu",
            "ghcr.io/mailu/admin:2024.06",
            "app.kubernetes.io/name",
            "Etc/UTC",
            "mailu-admin.mailu.svc.cluster.local",
        ] {
            assert_eq!(string_text(plain), plain);
        }
    }

    #[test]
    fn multi_line_strings_are_literal_blocks() {
        let v = json!({"a": "x\ny\n", "b": "x\n\ny", "c": "x\ny\n\n", "d": " lead\nx", "e": "tab\there\nx"});
        assert_eq!(
            to_yaml(&v),
            "a: |\n  x\n  y\nb: |-\n  x\n\n  y\nc: |+\n  x\n  y\n\nd: \" lead\\nx\"\ne: \"tab\\there\\nx\"\n"
        );
    }

    #[test]
    fn layout() {
        let v = json!({
            "a": {"b": [1, {"c": "d", "e": []}], "f": {}},
            "g": ["x", ["z"]],
        });
        assert_eq!(
            to_yaml(&v),
            "a:\n  b:\n    - 1\n    - c: d\n      e: []\n  f: {}\ng:\n  - x\n  -\n    - z\n"
        );
    }
}
