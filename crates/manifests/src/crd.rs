//! Typed custom resources mailu-k8s writes: cert-manager's `Certificate`, Traefik's routes,
//! transport and middleware, and Gateway API routes.
//!
//! Each kind's group, version and kind are named once, where its spec implements
//! [`CustomResourceSpec`]; [`CustomResource`] writes them as `apiVersion` and `kind`. The specs
//! model the fields mailu-k8s sets (in the order it writes them) plus the optional ones a caller
//! is likely to add; an empty optional field is never written. `scripts/test` checks every one
//! against its upstream JSON schema.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use serde::ser::SerializeStruct;
use serde::{Serialize, Serializer};

/// The spec of a namespaced custom resource kind, with the kind's identity.
pub trait CustomResourceSpec: Serialize {
    /// The API group, e.g. `cert-manager.io`.
    const GROUP: &'static str;
    /// The version within the group, e.g. `v1`.
    const VERSION: &'static str;
    /// `GROUP/VERSION`, as written in `apiVersion`.
    const API_VERSION: &'static str;
    const KIND: &'static str;
    /// The lower-case plural in API paths, e.g. `certificates`.
    const PLURAL: &'static str;
    /// Namespaced (the default) or cluster-scoped (e.g. Cilium's egress policies).
    type Scope: k8s_openapi::ResourceScope;
}

/// Implements [`CustomResourceSpec`]: the one place a kind's `apiVersion` and `kind` are spelled.
macro_rules! custom_resource_kind {
    ($spec:ty, $group:literal, $version:literal, $kind:literal, $plural:literal) => {
        custom_resource_kind!(
            $spec,
            $group,
            $version,
            $kind,
            $plural,
            k8s_openapi::NamespaceResourceScope
        );
    };
    ($spec:ty, $group:literal, $version:literal, $kind:literal, $plural:literal, $scope:ty) => {
        impl $crate::crd::CustomResourceSpec for $spec {
            const GROUP: &'static str = $group;
            const VERSION: &'static str = $version;
            const API_VERSION: &'static str = concat!($group, "/", $version);
            const KIND: &'static str = $kind;
            const PLURAL: &'static str = $plural;
            type Scope = $scope;
        }
    };
}
pub(crate) use custom_resource_kind;

/// A namespaced custom resource: `apiVersion` and `kind` from its spec type, then `metadata` and
/// `spec`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CustomResource<S> {
    pub metadata: ObjectMeta,
    pub spec: S,
}

impl<S: CustomResourceSpec> k8s_openapi::Resource for CustomResource<S> {
    const API_VERSION: &'static str = S::API_VERSION;
    const GROUP: &'static str = S::GROUP;
    const KIND: &'static str = S::KIND;
    const VERSION: &'static str = S::VERSION;
    const URL_PATH_SEGMENT: &'static str = S::PLURAL;
    type Scope = S::Scope;
}

impl<S: CustomResourceSpec> k8s_openapi::Metadata for CustomResource<S> {
    type Ty = ObjectMeta;

    fn metadata(&self) -> &ObjectMeta {
        &self.metadata
    }

    fn metadata_mut(&mut self) -> &mut ObjectMeta {
        &mut self.metadata
    }
}

impl<S: CustomResourceSpec> Serialize for CustomResource<S> {
    fn serialize<Z: Serializer>(&self, serializer: Z) -> Result<Z::Ok, Z::Error> {
        let mut state = serializer.serialize_struct(S::KIND, 4)?;
        state.serialize_field("apiVersion", S::API_VERSION)?;
        state.serialize_field("kind", S::KIND)?;
        state.serialize_field("metadata", &self.metadata)?;
        state.serialize_field("spec", &self.spec)?;
        state.end()
    }
}

// cert-manager

pub type Certificate = CustomResource<CertificateSpec>;
custom_resource_kind!(
    CertificateSpec,
    "cert-manager.io",
    "v1",
    "Certificate",
    "certificates"
);

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CertificateSpec {
    /// The Secret cert-manager writes the key pair into.
    pub secret_name: String,
    pub issuer_ref: IssuerRef,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub dns_names: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub private_key: Option<CertificatePrivateKey>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct IssuerRef {
    /// Default `cert-manager.io`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub group: Option<String>,
    /// `Issuer` (the default) or `ClusterIssuer`, or an external issuer's kind.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    pub name: String,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CertificatePrivateKey {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub algorithm: Option<PrivateKeyAlgorithm>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub size: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rotation_policy: Option<RotationPolicy>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum PrivateKeyAlgorithm {
    #[serde(rename = "RSA")]
    Rsa,
    #[serde(rename = "ECDSA")]
    Ecdsa,
    Ed25519,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum RotationPolicy {
    Never,
    Always,
}

// Traefik

pub type IngressRoute = CustomResource<IngressRouteSpec>;
custom_resource_kind!(
    IngressRouteSpec,
    "traefik.io",
    "v1alpha1",
    "IngressRoute",
    "ingressroutes"
);

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct IngressRouteSpec {
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub entry_points: Vec<String>,
    pub routes: Vec<TraefikRoute>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tls: Option<TraefikTls>,
}

/// An HTTP router of an `IngressRoute`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TraefikRoute {
    /// Traefik's default and only kind, `Rule`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kind: Option<TraefikRouteKind>,
    /// The rule, e.g. ``Host(`mail.example.com`)``.
    #[serde(rename = "match")]
    pub rule: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub services: Vec<TraefikService>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub middlewares: Vec<MiddlewareRef>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum TraefikRouteKind {
    Rule,
}

/// A Kubernetes Service behind a Traefik HTTP router.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TraefikService {
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub port: Option<IntOrString>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TraefikTls {
    /// A `kubernetes.io/tls` Secret in the route's namespace.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub secret_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cert_resolver: Option<String>,
    /// TCP only: hand the TLS stream to the backend undecrypted.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub passthrough: Option<bool>,
}

/// A middleware by name, in the route's namespace unless `namespace` says otherwise.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MiddlewareRef {
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
}

pub type IngressRouteTcp = CustomResource<IngressRouteTcpSpec>;
custom_resource_kind!(
    IngressRouteTcpSpec,
    "traefik.io",
    "v1alpha1",
    "IngressRouteTCP",
    "ingressroutetcps"
);

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct IngressRouteTcpSpec {
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub entry_points: Vec<String>,
    pub routes: Vec<TraefikTcpRoute>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tls: Option<TraefikTls>,
}

/// A TCP router of an `IngressRouteTCP`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TraefikTcpRoute {
    /// The rule, e.g. ``HostSNI(`*`)``.
    #[serde(rename = "match")]
    pub rule: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub services: Vec<TraefikTcpService>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub middlewares: Vec<MiddlewareRef>,
}

/// A Kubernetes Service behind a Traefik TCP router.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TraefikTcpService {
    pub name: String,
    pub port: IntOrString,
    /// A `ServersTransportTCP` in the route's namespace.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub servers_transport: Option<String>,
}

pub type ServersTransportTcp = CustomResource<ServersTransportTcpSpec>;
custom_resource_kind!(
    ServersTransportTcpSpec,
    "traefik.io",
    "v1alpha1",
    "ServersTransportTCP",
    "serverstransporttcps"
);

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ServersTransportTcpSpec {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub proxy_protocol: Option<ProxyProtocol>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct ProxyProtocol {
    /// 1 or 2.
    pub version: u8,
}

pub type MiddlewareTcp = CustomResource<MiddlewareTcpSpec>;
custom_resource_kind!(
    MiddlewareTcpSpec,
    "traefik.io",
    "v1alpha1",
    "MiddlewareTCP",
    "middlewaretcps"
);

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct MiddlewareTcpSpec {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub in_flight_conn: Option<InFlightConn>,
}

/// Concurrent connections per client IP.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct InFlightConn {
    pub amount: u32,
}

// Gateway API

pub type HttpRoute = CustomResource<HttpRouteSpec>;
custom_resource_kind!(
    HttpRouteSpec,
    "gateway.networking.k8s.io",
    "v1",
    "HTTPRoute",
    "httproutes"
);

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct HttpRouteSpec {
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub parent_refs: Vec<ParentReference>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub hostnames: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub rules: Vec<RouteRule>,
}

pub type TcpRoute = CustomResource<TcpRouteSpec>;
custom_resource_kind!(
    TcpRouteSpec,
    "gateway.networking.k8s.io",
    "v1",
    "TCPRoute",
    "tcproutes"
);

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TcpRouteSpec {
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub parent_refs: Vec<ParentReference>,
    pub rules: Vec<RouteRule>,
}

pub type TlsRoute = CustomResource<TlsRouteSpec>;
custom_resource_kind!(
    TlsRouteSpec,
    "gateway.networking.k8s.io",
    "v1",
    "TLSRoute",
    "tlsroutes"
);

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TlsRouteSpec {
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub parent_refs: Vec<ParentReference>,
    /// SNI names the route matches.
    pub hostnames: Vec<String>,
    pub rules: Vec<RouteRule>,
}

/// The Gateway (and optionally its listener) a route attaches to.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ParentReference {
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    /// The listener's name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub section_name: Option<String>,
}

/// A rule of an HTTP, TCP or TLS route: where matching traffic goes.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RouteRule {
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub backend_refs: Vec<BackendRef>,
}

/// A Service in the route's namespace (unless `namespace` says otherwise) and its port.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BackendRef {
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub port: Option<u16>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::Resource;

    #[test]
    fn api_version_and_kind_are_written_first_from_the_spec_type() {
        let route = TcpRoute {
            metadata: ObjectMeta {
                name: Some("r".into()),
                ..ObjectMeta::default()
            },
            spec: TcpRouteSpec::default(),
        };
        let text = serde_json::to_string(&route).expect("json");
        assert_eq!(
            text,
            r#"{"apiVersion":"gateway.networking.k8s.io/v1","kind":"TCPRoute","metadata":{"name":"r"},"spec":{"rules":[]}}"#
        );
        assert_eq!(TcpRoute::URL_PATH_SEGMENT, "tcproutes");
        assert_eq!(Certificate::API_VERSION, "cert-manager.io/v1");
    }
}
