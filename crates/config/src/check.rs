//! How validators report: one [`Checker`] owns the findings and the path of the field being
//! checked. A validator steps into a field (`c.field("egress", |c| …)`, `c.index(i, |c| …)`) and
//! reports there, so every finding's path is computed from where the check runs: a misspelt
//! path cannot be typed, only a misspelt key, which a test holds against the JSON Schema.

use std::collections::BTreeMap;

use crate::diagnostic::{Code, Diagnostic};
use crate::file::PostgresqlSecretKeysFile;
use ipnet::IpNet;

use crate::leaf::{Dns1123Subdomain, IpCidr, Parsed};
use crate::model::SecretKeys;
use crate::rules::{self, Problem};

/// The findings so far and the path of the field being checked, in the notation of
/// [`crate::diagnostic::join`] and [`crate::diagnostic::index`] (`storage.dovecot.size`,
/// `hostnames[1]`).
#[derive(Debug, Default)]
pub(crate) struct Checker {
    findings: Vec<Diagnostic>,
    path: String,
}

/// A finding just recorded, to add the value it is about.
pub(crate) struct Recorded<'a>(&'a mut Diagnostic);

impl Recorded<'_> {
    pub(crate) fn value(self, value: impl Into<String>) {
        self.0.value = Some(value.into());
    }
}

/// A point in the findings: [`Checker::errors_since`] tells whether a section failed.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Mark(usize);

impl Checker {
    /// Runs `f` one field deeper, at `key`.
    pub(crate) fn field<T>(&mut self, key: &str, f: impl FnOnce(&mut Self) -> T) -> T {
        let separator = if self.path.is_empty() { "" } else { "." };
        self.within(&format!("{separator}{key}"), f)
    }

    /// Runs `f` several fields deeper: `c.fields(&["a", "b"], f)` is `c.field("a", |c|
    /// c.field("b", f))`.
    pub(crate) fn fields<T>(&mut self, keys: &[&str], f: impl FnOnce(&mut Self) -> T) -> T {
        match keys.split_first() {
            None => f(self),
            Some((first, rest)) => self.field(first, |c| c.fields(rest, f)),
        }
    }

    /// Runs `f` at item `i` of the list at the current path.
    pub(crate) fn index<T>(&mut self, i: usize, f: impl FnOnce(&mut Self) -> T) -> T {
        self.within(&format!("[{i}]"), f)
    }

    /// Runs `f` at the top of the document: for a rule that, met deep inside one section, is
    /// about another (a gateway count against `egress.ips`).
    pub(crate) fn root<T>(&mut self, f: impl FnOnce(&mut Self) -> T) -> T {
        let saved = std::mem::take(&mut self.path);
        let out = f(self);
        self.path = saved;
        out
    }

    fn within<T>(&mut self, suffix: &str, f: impl FnOnce(&mut Self) -> T) -> T {
        let len = self.path.len();
        self.path.push_str(suffix);
        let out = f(self);
        self.path.truncate(len);
        out
    }

    /// The current path, for a hint that names the field.
    pub(crate) fn path(&self) -> &str {
        &self.path
    }

    /// Records an error at the current path.
    pub(crate) fn error(
        &mut self,
        code: Code,
        message: impl Into<String>,
        hint: impl Into<String>,
    ) -> Recorded<'_> {
        let finding = Diagnostic::error(code, self.path.clone(), message).with_hint(hint);
        self.record(finding)
    }

    /// Records a warning at the current path.
    pub(crate) fn warning(
        &mut self,
        code: Code,
        message: impl Into<String>,
        hint: impl Into<String>,
    ) -> Recorded<'_> {
        let finding = Diagnostic::warning(code, self.path.clone(), message).with_hint(hint);
        self.record(finding)
    }

    fn record(&mut self, finding: Diagnostic) -> Recorded<'_> {
        self.findings.push(finding);
        Recorded(self.findings.last_mut().expect("just pushed"))
    }

    /// Records a rule's `Problem` with `value` at the current path.
    pub(crate) fn problem(&mut self, code: Code, value: &str, p: Problem) {
        self.error(code, p.message, p.hint).value(value);
    }

    /// Runs `rule` on `value`; on failure records its problem and returns `None`.
    pub(crate) fn check<T>(
        &mut self,
        code: Code,
        value: &str,
        rule: impl FnOnce(&str) -> Result<T, Problem>,
    ) -> Option<T> {
        rule(value).map_err(|p| self.problem(code, value, p)).ok()
    }

    /// A typed leaf at the current path: its value, or its parser's problem recorded as
    /// [`Checker::check`] records it.
    pub(crate) fn leaf<T: Clone>(&mut self, code: Code, leaf: &Parsed<T>) -> Option<T> {
        match leaf.parsed() {
            Ok(value) => Some(value.clone()),
            Err(p) => {
                self.problem(code, leaf.raw(), p.clone());
                None
            }
        }
    }

    /// `leaf` at `key`.
    pub(crate) fn leaf_field<T: Clone>(
        &mut self,
        key: &str,
        code: Code,
        leaf: &Parsed<T>,
    ) -> Option<T> {
        self.field(key, |c| c.leaf(code, leaf))
    }

    /// A network Mailu trusts (relaying, client addresses) at the current path: a CIDR in
    /// private space.
    pub(crate) fn private_cidr(&mut self, cidr: &Parsed<IpCidr>) -> Option<IpNet> {
        let net = self.leaf(Code::InvalidCidr, cidr)?.net();
        let private = |raw: &str| rules::check_private_net(raw, net);
        self.check(Code::InvalidCidr, cidr.raw(), private)
            .map(|()| net)
    }

    /// `check` at `key`.
    pub(crate) fn check_field<T>(
        &mut self,
        key: &str,
        code: Code,
        value: &str,
        rule: impl FnOnce(&str) -> Result<T, Problem>,
    ) -> Option<T> {
        self.field(key, |c| c.check(code, value, rule))
    }

    /// A Kubernetes object name (Secret, StorageClass, pool) at `key`: a DNS-1123 subdomain.
    pub(crate) fn object_name(
        &mut self,
        key: &str,
        name: &Parsed<Dns1123Subdomain>,
    ) -> Option<String> {
        self.leaf_field(key, Code::InvalidKubernetesName, name)
            .map(String::from)
    }

    /// `secretName` and `secretKeys` under the current path: a credentials Secret and the keys
    /// holding user name and password.
    pub(crate) fn secret_keys(
        &mut self,
        secret_name: &Parsed<Dns1123Subdomain>,
        keys: &PostgresqlSecretKeysFile,
    ) -> Option<SecretKeys> {
        let secret_name = self.object_name("secretName", secret_name);
        let (username_key, password_key) = self.field("secretKeys", |c| {
            let code = Code::InvalidKubernetesName;
            (
                c.leaf_field("username", code, &keys.username),
                c.leaf_field("password", code, &keys.password),
            )
        });
        Some(SecretKeys {
            secret_name: secret_name?,
            username_key: username_key?.into(),
            password_key: password_key?.into(),
        })
    }

    /// The settings blocks under the current path given for another mode than the one chosen
    /// (`(key, given for another mode)`), each refused where it is.
    pub(crate) fn refuse_blocks_of_other_modes<const N: usize>(
        &mut self,
        blocks: [(&str, bool); N],
        message: impl Fn(&str) -> String,
        hint: impl Fn(&str) -> String,
    ) {
        for (block, refused) in blocks {
            if refused {
                self.field(block, |c| {
                    c.error(Code::InvalidValue, message(block), hint(block));
                });
            }
        }
    }

    /// Label keys and values of the map at the current path; whether all are valid.
    pub(crate) fn labels(&mut self, map: &BTreeMap<String, String>) -> bool {
        let mark = self.mark();
        for (key, value) in map {
            if !rules::is_label_key(key) || !rules::is_label_value(value) {
                self.field(key, |c| {
                    c.error(
                        Code::InvalidKubernetesName,
                        format!("`{key}: {value}` is not a valid label"),
                        "keys are `prefix/name`, values at most 63 letters, digits, `-`, `_`, `.`",
                    )
                    .value(format!("{key}={value}"))
                });
            }
        }
        !self.errors_since(mark)
    }

    /// Annotation keys of the map at the current path.
    pub(crate) fn annotations(&mut self, map: &BTreeMap<String, String>) {
        for key in map.keys().filter(|k| !rules::is_label_key(k)) {
            self.field(key, |c| {
                c.error(
                    Code::InvalidKubernetesName,
                    format!("`{key}` is not a valid annotation key"),
                    "use `prefix/name` with a DNS prefix and a name of letters, digits, `-`, `_`, \
                     `.`",
                )
                .value(key)
            });
        }
    }

    pub(crate) fn mark(&self) -> Mark {
        Mark(self.error_count())
    }

    /// Whether an error was recorded after `mark`.
    pub(crate) fn errors_since(&self, mark: Mark) -> bool {
        self.error_count() > mark.0
    }

    fn error_count(&self) -> usize {
        self.findings.iter().filter(|d| d.is_error()).count()
    }

    pub(crate) fn into_findings(self) -> Vec<Diagnostic> {
        self.findings
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_follow_the_fields_stepped_into() {
        let mut c = Checker::default();
        c.field("egress", |c| {
            c.field("cilium", |c| {
                c.field("extraGateways", |c| {
                    c.index(1, |c| {
                        c.field("egressIP", |c| {
                            c.error(Code::InvalidValue, "m", "h");
                        })
                    })
                });
                c.root(|c| {
                    c.field("subnet", |c| {
                        c.warning(Code::InvalidCidr, "m", "h");
                    })
                });
                c.error(Code::MissingKey, "m", "h").value("v");
            })
        });
        let paths: Vec<&str> = c.findings.iter().map(|d| d.path.as_str()).collect();
        assert_eq!(
            paths,
            [
                "egress.cilium.extraGateways[1].egressIP",
                "subnet",
                "egress.cilium"
            ]
        );
        assert_eq!(c.findings[2].value.as_deref(), Some("v"));
        assert_eq!(c.path(), "");
    }

    #[test]
    fn errors_since_counts_errors_not_warnings() {
        let mut c = Checker::default();
        let mark = c.mark();
        c.warning(Code::InvalidValue, "m", "h");
        assert!(!c.errors_since(mark));
        c.check(Code::InvalidQuantity, "x", rules::Quantity::parse);
        assert!(c.errors_since(mark));
        assert_eq!(c.findings[1].value.as_deref(), Some("x"));
    }
}
