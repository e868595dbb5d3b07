//! `storage` and `resources`: one volume and one set of requests and limits per component, the
//! defaults filled in.

use crate::check::Checker;
use crate::component::Component;
use crate::diagnostic::Code;
use crate::file;
use crate::leaf::{Dns1123Subdomain, Parsed};
use crate::model::*;

/// `storage` (at that path): a default class and one volume per component that keeps state.
pub(crate) fn validate_storage(c: &mut Checker, s: &file::StorageFile) -> Option<Storage> {
    let default_class = storage_class(c, &s.storage_class)?;
    let volumes: Vec<(Component, Option<Volume>)> = Component::stateful()
        .into_iter()
        .map(|k| {
            let default_size = k.default_volume_size().unwrap_or_default();
            let given = s.volume(k);
            let v = c.field(k.name(), |c| volume(c, given, default_size, &default_class));
            (k, v)
        })
        .collect();
    warn_shared_claims(c, &volumes);
    let volumes = volumes.into_iter().map(|(k, v)| Some((k, v?)));
    Some(Storage::new(volumes.collect::<Option<_>>()?))
}

/// One `existingClaim` named by several components (issue 21): their files stay apart (each
/// mounts its own sub-directories), but a ReadWriteOnce claim attaches to one node, so a pod
/// scheduled on another stays in `ContainerCreating`. Kubernetes cannot tell us the claim's
/// access mode here, so it is said, not refused.
fn warn_shared_claims(c: &mut Checker, volumes: &[(Component, Option<Volume>)]) {
    let claim_of = |v: &Option<Volume>| v.as_ref().and_then(|v| v.existing_claim.clone());
    for (i, (component, volume)) in volumes.iter().enumerate() {
        let Some(claim) = claim_of(volume) else {
            continue;
        };
        let first = volumes[..i]
            .iter()
            .find(|(_, earlier)| claim_of(earlier).as_ref() == Some(&claim));
        if let Some((owner, _)) = first {
            let message = format!("`{claim}` is also {}'s claim", owner.name());
            c.field(component.name(), |c| {
                c.field("existingClaim", |c| {
                    c.warning(
                        Code::InvalidValue,
                        message,
                        "pods sharing a claim need it ReadWriteMany, or must run on one node \
                         (`pods.nodeSelector`); otherwise give each component its own claim",
                    )
                    .value(claim.as_str());
                })
            });
        }
    }
}

/// `storageClass` under the current path: `Some(None)` when not given, `None` after a finding.
fn storage_class(c: &mut Checker, v: &Option<Parsed<Dns1123Subdomain>>) -> Option<Option<String>> {
    match v {
        None => Some(None),
        Some(name) => c.object_name("storageClass", name).map(Some),
    }
}

/// `storage.<name>` (at that path): a size, a class (by default `default_class`), access modes,
/// or an existing claim alone.
fn volume(
    c: &mut Checker,
    given: Option<&file::VolumeFile>,
    default_size: &str,
    default_class: &Option<String>,
) -> Option<Volume> {
    let given = given.cloned().unwrap_or_default();
    let size = c.check_field(
        "size",
        Code::InvalidQuantity,
        given.size.as_deref().unwrap_or(default_size),
        Quantity::parse,
    );
    let own_class = storage_class(c, &given.storage_class);
    let existing_claim = given
        .existing_claim
        .as_ref()
        .map(|claim| existing_claim(c, &given, claim));
    let access_modes = given
        .access_modes
        .clone()
        .unwrap_or_else(|| vec![AccessMode::ReadWriteOnce]);
    if access_modes.is_empty() {
        c.field("accessModes", |c| {
            c.error(
                Code::EmptyList,
                "no access mode given",
                "use `[ReadWriteOnce]` (the default), or `[ReadWriteMany]` for shared storage",
            );
        });
    }
    Some(Volume {
        size: size?,
        storage_class: own_class?.or_else(|| default_class.clone()),
        access_modes,
        existing_claim: match existing_claim {
            Some(claim) => Some(claim?),
            None => None,
        },
    })
}

/// `existingClaim`: a claim's name, given alone (the claim has its size, class and modes).
fn existing_claim(
    c: &mut Checker,
    given: &file::VolumeFile,
    claim: &Parsed<Dns1123Subdomain>,
) -> Option<String> {
    if given.size.is_some() || given.storage_class.is_some() || given.access_modes.is_some() {
        c.field("existingClaim", |c| {
            c.error(
                Code::InvalidValue,
                "`existingClaim` together with `size`, `storageClass` or `accessModes`",
                "an existing claim already has those; remove them, or remove `existingClaim`",
            );
        });
    }
    c.object_name("existingClaim", claim)
}

/// `resources` (at that path): requests and limits per component, over the defaults.
pub(crate) fn validate_resources(c: &mut Checker, r: &file::ResourcesFile) -> Option<Resources> {
    let all = Component::ALL.map(|component| {
        let given = r.compute(component);
        let defaults = component.default_resources();
        c.field(component.name(), |c| validate_compute(c, given, defaults))
    });
    let all: Vec<Compute> = all.into_iter().collect::<Option<_>>()?;
    Some(Resources::new(all.try_into().ok()?))
}

/// One `requests.cpu`-like amount: its quantity (`None` after a finding, or for a limit the
/// config removed), whether the file gave it (a default is never blamed), and its path for hints.
struct Amount {
    quantity: Option<Quantity>,
    explicit: bool,
    path: String,
}

/// `resources.<component>` (at that path): the given values over `defaults` (request cpu and
/// memory, limit cpu and memory), each request within its limit.
fn validate_compute(
    c: &mut Checker,
    given: Option<&file::ComputeFile>,
    [
        [req_cpu_default, req_mem_default],
        [lim_cpu_default, lim_mem_default],
    ]: [[&str; 2]; 2],
) -> Option<Compute> {
    let requests = given.and_then(|g| g.requests.clone()).unwrap_or_default();
    let limits = given.and_then(|g| g.limits.clone()).unwrap_or_default();
    let errors = c.mark();
    let [req_cpu, req_mem] = c.field("requests", |c| {
        [
            amount(c, "cpu", requests.cpu.as_ref(), req_cpu_default),
            amount(c, "memory", requests.memory.as_ref(), req_mem_default),
        ]
    });
    let [lim_cpu, lim_mem] = c.field("limits", |c| {
        [
            limit(c, "cpu", limits.cpu.as_ref(), lim_cpu_default),
            limit(c, "memory", limits.memory.as_ref(), lim_mem_default),
        ]
    });
    let cpu_ordered = check_request_within_limit(c, "cpu", &req_cpu, &lim_cpu);
    let memory_ordered = check_request_within_limit(c, "memory", &req_mem, &lim_mem);
    if !(cpu_ordered && memory_ordered) || c.errors_since(errors) {
        return None;
    }
    Some(Compute {
        requests: CpuMemory {
            cpu: req_cpu.quantity?,
            memory: req_mem.quantity?,
        },
        limits: Limits {
            cpu: lim_cpu.quantity,
            memory: lim_mem.quantity,
        },
    })
}

/// `key` under the current path: the given quantity, or `default`.
fn amount(c: &mut Checker, key: &str, given: Option<&file::QuantityText>, default: &str) -> Amount {
    c.field(key, |c| {
        let raw = given.map_or(default, |g| g.0.as_str());
        let quantity = c.check(Code::InvalidQuantity, raw, Quantity::parse);
        if key == "memory"
            && given.is_some()
            && let Some(q) = &quantity
        {
            warn_if_bytes(c, q);
        }
        Amount {
            quantity,
            explicit: given.is_some(),
            path: c.path().to_owned(),
        }
    })
}

/// A limit: as [`amount`], or none at all for `null`.
fn limit(c: &mut Checker, key: &str, given: Option<&file::Limit>, default: &str) -> Amount {
    match given {
        Some(file::Limit::Unlimited) => Amount {
            quantity: None,
            explicit: true,
            path: c.field(key, |c| c.path().to_owned()),
        },
        Some(file::Limit::Amount(amount_given)) => amount(c, key, Some(amount_given), default),
        None => amount(c, key, None, default),
    }
}

/// Memory below 1Mi is a forgotten unit: a plain number counts bytes (`"256"` is 256 bytes, and
/// the container would not start), so it is said, though Kubernetes accepts it (issue 20).
fn warn_if_bytes(c: &mut Checker, q: &Quantity) {
    const MIB: f64 = 1024.0 * 1024.0;
    if q.value() < MIB {
        let hint = format!("write the unit: `{q}Mi` or `{q}Gi`");
        c.warning(
            Code::InvalidQuantity,
            format!(
                "`{q}` is {} bytes of memory: a number without a unit counts bytes",
                q.value()
            ),
            hint,
        )
        .value(q.as_str());
    }
}

/// A request no larger than its limit; otherwise the values the user wrote (either may be the
/// mistake) are blamed: the request, the limit, or both. `false` after a finding.
fn check_request_within_limit(c: &mut Checker, kind: &str, req: &Amount, lim: &Amount) -> bool {
    let (Some(r), Some(l)) = (&req.quantity, &lim.quantity) else {
        return true;
    };
    if r.value() <= l.value() {
        return true;
    }
    let message = format!("request {r} is larger than limit {l}");
    let hint = format!(
        "raise `{}` to at least {r}, or lower `{}`",
        lim.path, req.path
    );
    for (section, blamed, value) in [
        ("requests", req.explicit || !lim.explicit, r),
        ("limits", lim.explicit, l),
    ] {
        if blamed {
            c.field(section, |c| {
                c.field(kind, |c| {
                    c.error(Code::RequestExceedsLimit, &message, &hint)
                        .value(value.as_str())
                })
            });
        }
    }
    false
}
