//! Where each field path is in the YAML text, so every finding can name its line and column.
//!
//! The parsed document has already passed the parser's limits when this runs; this walks the
//! parser's events once more, keeping a path stack in the same notation findings use
//! (`storage.dovecot.size`, `hostnames[1]`).

use std::collections::BTreeMap;

use serde_saphyr::granit_parser::{Event, Parser};

use crate::diagnostic::{Diagnostic, Location, index, join};

/// Positions of keys and values by field path.
#[derive(Debug, Default)]
pub struct Locations {
    keys: BTreeMap<String, Location>,
    values: BTreeMap<String, Location>,
    /// Scalar values as written, before YAML read them as numbers (`2024.10` → 2024.1).
    written: BTreeMap<String, String>,
}

/// Stands for a complex key in paths; no finding path contains it.
const COMPLEX_KEY: &str = "\u{0}complex";

enum Frame {
    Map {
        path: String,
        /// The key whose value comes next; `None` while a key is expected.
        key: Option<String>,
    },
    Seq {
        path: String,
        next: usize,
    },
    /// A complex (non-scalar) mapping key, ignored with everything inside it.
    Skip,
}

impl Locations {
    pub fn of(text: &str) -> Locations {
        let mut out = Locations::default();
        let mut stack: Vec<Frame> = Vec::new();
        for item in Parser::new_from_str(text) {
            let Ok((event, span)) = item else { break };
            let here = Location {
                line: span.start.line() as u64,
                column: span.start.col() as u64 + 1,
            };
            match event {
                Event::Scalar(value, ..) => {
                    if let Some(Frame::Map { path, key }) = stack.last_mut()
                        && key.is_none()
                    {
                        let full = join(path, &value);
                        out.keys.entry(full).or_insert(here);
                        *key = Some(value.into_owned());
                        continue;
                    }
                    if let Some(path) = value_path(&stack) {
                        out.values.entry(path.clone()).or_insert(here);
                        out.written.entry(path).or_insert(value.into_owned());
                    }
                    finish_value(&mut stack);
                }
                Event::Alias(_) => {
                    if let Some(path) = value_path(&stack) {
                        out.values.entry(path).or_insert(here);
                    }
                    finish_value(&mut stack);
                }
                Event::MappingStart(..) | Event::SequenceStart(..) => {
                    let is_map = matches!(event, Event::MappingStart(..));
                    let frame = match stack.last_mut() {
                        Some(Frame::Skip) => Frame::Skip,
                        Some(Frame::Map { key, .. }) if key.is_none() => {
                            // A complex key: skip it; its value follows under a placeholder.
                            *key = Some(COMPLEX_KEY.to_owned());
                            Frame::Skip
                        }
                        _ => {
                            let path = value_path(&stack).unwrap_or_default();
                            out.values.entry(path.clone()).or_insert(here);
                            if is_map {
                                Frame::Map { path, key: None }
                            } else {
                                Frame::Seq { path, next: 0 }
                            }
                        }
                    };
                    stack.push(frame);
                }
                Event::MappingEnd | Event::SequenceEnd => {
                    let was_skip = matches!(stack.pop(), Some(Frame::Skip));
                    let key_just_ended = match stack.last() {
                        Some(Frame::Map { key: Some(k), .. }) => was_skip && k == COMPLEX_KEY,
                        Some(Frame::Skip) => true,
                        _ => false,
                    };
                    if !key_just_ended {
                        finish_value(&mut stack);
                    }
                }
                _ => {}
            }
        }
        out
    }

    /// The best position for a finding: its value, else its key, else the nearest enclosing
    /// field that exists (a missing key points at the block it belongs in).
    pub fn find(&self, path: &str) -> Option<Location> {
        let mut p = path;
        loop {
            if let Some(l) = self.values.get(p).or_else(|| self.keys.get(p)) {
                return Some(*l);
            }
            let cut = p.rfind(['.', '['])?;
            p = &p[..cut];
            if p.is_empty() {
                return None;
            }
        }
    }

    /// Fills in the location of findings that have none. A finding about a key's name (an
    /// unknown key, or a value that is the key itself, as for `extraEnv` names) points at the
    /// key; others at the value.
    pub fn attach(&self, findings: &mut [Diagnostic]) {
        for d in findings.iter_mut().filter(|d| d.location.is_none()) {
            if d.path.is_empty() {
                continue;
            }
            let last = d.path.rsplit(['.', '[']).next().unwrap_or("");
            let about_key = d.code == crate::Code::UnknownKey || d.value.as_deref() == Some(last);
            d.location = about_key
                .then(|| self.keys.get(&d.path).copied())
                .flatten()
                .or_else(|| self.find(&d.path));
            self.quote_as_written(d);
        }
    }

    /// A string field given an unquoted number or boolean gets a hint with the value as the user
    /// wrote it, not as YAML read it (`2024.10` read as 2024.1, `1.20` as 1.2; issue 20).
    fn quote_as_written(&self, d: &mut Diagnostic) {
        let (Some(written), Some(read), Some(hint)) = (
            self.written.get(&d.path),
            d.value.as_deref(),
            d.hint.as_deref(),
        ) else {
            return;
        };
        let what = match read.parse::<f64>() {
            Ok(_) => format!("the number {read}"),
            Err(_) => format!("`{read}`"),
        };
        let reads = format!("(unquoted, YAML reads `{written}` as {what})");
        if hint.starts_with("quote the value") {
            d.hint = Some(match written == read {
                true => format!("quote the value: \"{written}\""),
                false => format!("quote the value: \"{written}\" {reads}"),
            });
        } else if hint.starts_with("quote the release") {
            d.hint = Some(format!(
                "quote the release: `version: \"{written}\"` {reads}"
            ));
        }
    }
}

/// The path of the value about to start under the top frame.
fn value_path(stack: &[Frame]) -> Option<String> {
    match stack.last() {
        None => Some(String::new()),
        Some(Frame::Map {
            path,
            key: Some(key),
        }) => Some(join(path, key)),
        Some(Frame::Seq { path, next }) => Some(index(path, *next)),
        Some(Frame::Map { key: None, .. }) | Some(Frame::Skip) => None,
    }
}

/// A value under the top frame is complete: the map expects a key again, the list moves on.
fn finish_value(stack: &mut [Frame]) {
    match stack.last_mut() {
        Some(Frame::Map { key, .. }) => *key = None,
        Some(Frame::Seq { next, .. }) => *next += 1,
        Some(Frame::Skip) | None => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_map_to_lines_and_columns() {
        let text = "\
domain: example.com
hostnames:
  - mail.example.com
  - mx.example.com
storage:
  dovecot:
    size: 50GB
inline: {a: [1, {b: 2}]}
";
        let l = Locations::of(text);
        let at = |p: &str| l.find(p).map(|l| (l.line, l.column));
        assert_eq!(at("domain"), Some((1, 9)));
        assert_eq!(at("hostnames[1]"), Some((4, 5)));
        assert_eq!(at("storage.dovecot.size"), Some((7, 11)));
        assert_eq!(at("inline.a[1].b"), Some((8, 21)));
        // A missing key points at the block it belongs in.
        assert_eq!(at("storage.dovecot.storageClass"), at("storage.dovecot"));
        assert_eq!(at("nothing"), None);
    }

    #[test]
    fn complex_keys_and_aliases_do_not_confuse_the_walk() {
        let text = "? [a, b]\n: 1\nx: &anchor {y: 1}\nz: *anchor\nafter: 3\n";
        let l = Locations::of(text);
        assert_eq!(l.find("after").map(|l| l.line), Some(5));
        assert_eq!(l.find("x.y").map(|l| l.line), Some(3));
    }
}

#[cfg(test)]
mod quote_tests {
    /// The hint to quote a number shows it as written (issue 20): `2024.10`, not 2024.1.
    #[test]
    fn the_quote_hint_shows_the_value_as_written() {
        let rows = [
            (
                "images: {tag: 2024.10}\n",
                "quote the value: \"2024.10\" (unquoted, YAML reads `2024.10` as the number 2024.1)",
            ),
            ("images: {tag: 2024}\n", "quote the value: \"2024\""),
            ("images: {tag: true}\n", "quote the value: \"true\""),
            (
                "egress: {mode: cilium, cilium: {version: 1.20, egressIP: 203.0.113.10}}\n",
                "quote the release: `version: \"1.20\"` (unquoted, YAML reads `1.20` as the number 1.2)",
            ),
        ];
        for (extra, want) in rows {
            let findings =
                crate::load(crate::testing::yaml(extra).as_bytes()).expect_err("refused");
            assert!(
                findings.iter().any(|d| d.hint.as_deref() == Some(want)),
                "{extra}: {findings:#?}"
            );
        }
    }
}
