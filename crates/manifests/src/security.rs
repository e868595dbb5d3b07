//! Container security contexts from the model's hardening facts.

use k8s_openapi::api::core::v1::{Capabilities, SecurityContext};
use mailu_k8s_topology::Component;
use mailu_k8s_topology::security::Confinement;

/// A container's confinement (`mailu_k8s_topology::security`): no privilege escalation, no
/// `NET_RAW` (no capabilities at all for images with a fixed non-root user), a read-only root
/// where the image writes only to its volumes.
pub(crate) fn container_security(c: Component) -> SecurityContext {
    let h = c.hardening();
    let drop = if h.non_root_user.is_some() {
        "ALL"
    } else {
        "NET_RAW"
    };
    SecurityContext {
        allow_privilege_escalation: Some(false),
        capabilities: Some(Capabilities {
            add: None,
            drop: Some(vec![drop.to_owned()]),
        }),
        read_only_root_filesystem: h.read_only_root.then_some(true),
        ..SecurityContext::default()
    }
}
