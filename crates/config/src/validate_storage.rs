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
    let volumes = volumes.into_iter().map(|(k, v)| Some((k, v?)));
    Some(Storage::new(volumes.collect::<Option<_>>()?))
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

/// One `requests.cpu`-like amount: its quantity (`None` after a finding), whether the file gave
/// it (a default is never blamed), and its path for hints.
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
    let [req_cpu, req_mem] = c.field("requests", |c| {
        [
            amount(c, "cpu", &requests.cpu, req_cpu_default),
            amount(c, "memory", &requests.memory, req_mem_default),
        ]
    });
    let [lim_cpu, lim_mem] = c.field("limits", |c| {
        [
            amount(c, "cpu", &limits.cpu, lim_cpu_default),
            amount(c, "memory", &limits.memory, lim_mem_default),
        ]
    });
    let cpu_ordered = check_request_within_limit(c, "cpu", &req_cpu, &lim_cpu);
    let memory_ordered = check_request_within_limit(c, "memory", &req_mem, &lim_mem);
    if !(cpu_ordered && memory_ordered) {
        return None;
    }
    Some(Compute {
        requests: CpuMemory {
            cpu: req_cpu.quantity?,
            memory: req_mem.quantity?,
        },
        limits: CpuMemory {
            cpu: lim_cpu.quantity?,
            memory: lim_mem.quantity?,
        },
    })
}

/// `key` under the current path: the given quantity, or `default`.
fn amount(c: &mut Checker, key: &str, given: &Option<String>, default: &str) -> Amount {
    c.field(key, |c| Amount {
        quantity: c.check(
            Code::InvalidQuantity,
            given.as_deref().unwrap_or(default),
            Quantity::parse,
        ),
        explicit: given.is_some(),
        path: c.path().to_owned(),
    })
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
