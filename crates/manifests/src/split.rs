//! `synth --split DIR`: the manifest as one file per component, one for cluster-scoped and shared
//! objects, and a `kustomization.yaml` listing them, so `kubectl apply -k DIR` and kustomize
//! overlays work on the output as it is.

use mailu_k8s_topology::Component;

use crate::{COMPONENT_LABEL, Manifest, Object};

/// The file of objects no component owns: the Namespace, cluster-scoped egress objects, the
/// shared environment, the default-deny policy, the certificate and edge routes.
pub const SHARED_FILE: &str = "shared.yaml";
pub const KUSTOMIZATION_FILE: &str = "kustomization.yaml";

/// The objects grouped into files: `shared.yaml` first, then `<component>.yaml` in
/// [`Component::ALL`] order; files without objects are left out. Objects keep their order.
pub fn split(manifest: &Manifest) -> Vec<(String, Manifest)> {
    let mut files: Vec<(String, Manifest)> = std::iter::once(SHARED_FILE.to_owned())
        .chain(Component::ALL.iter().map(|c| format!("{}.yaml", c.name())))
        .map(|name| (name, Manifest::default()))
        .collect();
    for object in &manifest.objects {
        let file = file_of(object);
        if let Some((_, m)) = files.iter_mut().find(|(name, _)| *name == file) {
            m.objects.push(object.clone());
        }
    }
    files.retain(|(_, m)| !m.objects.is_empty());
    files
}

/// A namespaced object labelled with a component goes with it; everything else is shared.
fn file_of(object: &Object) -> String {
    let meta = object.metadata();
    let component = meta
        .labels
        .as_ref()
        .and_then(|l| l.get(COMPONENT_LABEL))
        .filter(|c| Component::ALL.iter().any(|k| k.name() == c.as_str()));
    match (&meta.namespace, component) {
        (Some(_), Some(c)) => format!("{c}.yaml"),
        _ => SHARED_FILE.to_owned(),
    }
}

/// The `kustomization.yaml` listing `files`. It sets no `namespace:`: the namespace is the
/// config's (`mailu-env`'s service addresses and the cluster-scoped egress objects carry it),
/// and the comment says so to whoever writes an overlay.
pub fn kustomization(files: &[String]) -> String {
    let mut out = String::from(crate::HEADER);
    out.push_str(
        "# Do not set `namespace:` here or in an overlay: set `namespace` in the mailu-k8s config.\n\
         # Service addresses in the mailu-env ConfigMap and the cluster-scoped egress objects carry\n\
         # the namespace, so kustomize's rewrite would break the installation.\n\
         apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n",
    );
    for f in files {
        out.push_str(&format!("  - {f}\n"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn manifest(extra: &str) -> Manifest {
        let yaml = format!(
            "domain: example.com\nhostnames: [mail.example.com]\nsubnet: 10.42.0.0/16\n\
             secrets: {{mailuSecretKey: k}}\nresolver: {{serviceIP: 10.43.0.53}}\n{extra}"
        );
        crate::synthesize(
            &mailu_k8s_config::load(yaml.as_bytes())
                .expect("valid")
                .config,
        )
    }

    #[test]
    fn every_object_lands_in_exactly_one_file() {
        let m = manifest("components: {webmail: true}\n");
        let files = split(&m);
        let total: usize = files.iter().map(|(_, f)| f.objects.len()).sum();
        assert_eq!(total, m.objects.len());
        assert_eq!(files[0].0, SHARED_FILE);
    }

    #[test]
    fn a_component_file_holds_its_workload_service_claim_and_policy() {
        let files = split(&manifest(""));
        let (_, postfix) = files
            .iter()
            .find(|(n, _)| n == "postfix.yaml")
            .expect("postfix");
        let kinds: Vec<&str> = postfix.objects.iter().map(|o| o.kind()).collect();
        for kind in [
            "Deployment",
            "Service",
            "PersistentVolumeClaim",
            "NetworkPolicy",
        ] {
            assert!(kinds.contains(&kind), "{kinds:?}");
        }
    }

    #[test]
    fn cluster_scoped_objects_are_shared() {
        let files = split(&manifest(""));
        let (_, shared) = &files[0];
        assert!(shared.objects.iter().any(|o| o.kind() == "Namespace"));
        for (name, m) in &files[1..] {
            assert!(
                m.objects.iter().all(|o| o.metadata().namespace.is_some()),
                "{name}"
            );
        }
    }

    #[test]
    fn the_kustomization_lists_the_files_and_sets_no_namespace() {
        let text = kustomization(&["shared.yaml".into(), "front.yaml".into()]);
        assert!(text.ends_with("resources:\n  - shared.yaml\n  - front.yaml\n"));
        assert!(!text.lines().any(|l| l.starts_with("namespace:")));
    }
}
