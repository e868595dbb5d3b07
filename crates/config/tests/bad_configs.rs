//! The validators' regression corpus: bad configs covering every rule, each with every finding
//! it produces (code, path, message, value, hint, line and column) recorded in a snapshot. A
//! change to any finding shows up as a snapshot diff; `every_finding_path_is_in_the_schema`
//! catches a misspelt path, which `Locations::find` would otherwise hide by falling back to the
//! nearest parent.

use mailu_k8s_config::{Diagnostic, load};
use serde::Serialize;
use serde_json::Value;

const MINIMAL: &str = "\
domain: example.com
hostnames: [mail.example.com]
subnet: 10.42.0.0/16
secrets:
  mailuSecretKey: mailu-secret-key
resolver:
  serviceIP: 10.43.0.53
";

/// Appended to `MINIMAL`; a case that sets `resolver:` itself replaces MINIMAL's.
const CASES: &[&str] = &[
    r#"ingress:
  type: traefik
  traefik: {proxyProtocol: false}
"#,
    r#"ingress:
  type: traefik
exposure:
  realIpFrom: []
"#,
    r#"ingress:
  type: traefik
exposure:
  realIpHeader: X-Forwarded-For
"#,
    r#"exposure:
  service: {externalTrafficPolicy: Local}
"#,
    r#"exposure:
  service: {type: LoadBalancer, externalTrafficPolicy: Cluster}
"#,
    r#"exposure:
  service: {type: NodePort, nodePorts: {smtp: 2525}}
"#,
    r#"exposure:
  service: {type: NodePort, nodePorts: {imap: 30143}}
"#,
    r#"exposure:
  service: {type: NodePort, nodePorts: {smtp: 30025, imaps: 30025}}
"#,
    r#"exposure:
  service: {loadBalancerIP: 203.0.113.5}
"#,
    r#"exposure:
  service: {type: LoadBalancer, loadBalancerIP: 203.0.113}
"#,
    r#"ingress:
  type: traefik
exposure:
  service: {type: LoadBalancer}
"#,
    r#"ingress:
  type: traefik
exposure:
  ports: {smtp: false, submissions: false, submission: false, imaps: false, pop3s: false}
"#,
    r#"ingress:
  type: traefik
tls:
  flavor: cert
"#,
    r#"tls:
  flavor: notls
"#,
    r#"tls:
  flavor: notls
  notlsIsForTestingOnly: true
  secretName: my-cert
"#,
    r#"tls:
  flavor: letsencrypt
"#,
    r#"ingress:
  type: traefik
tls:
  flavor: mail-letsencrypt
"#,
    r#"ingress:
  type: traefik
  traefik: {certIssuer: a}
tls:
  certificate: {issuerName: b}
"#,
    r#"ingress:
  type: gatewayApi
  gatewayApi: {gatewayName: gw}
"#,
    r#"ingress:
  type: gatewayApi
"#,
    r#"ingress:
  type: traefik
  gatewayApi: {gatewayName: gw}
"#,
    r#"ingress:
  type: traefik
  traefik: {entryPoints: {smtp: 'mail smtp'}}
"#,
    r#"exposure:
  daemonSet: {nodeSelector: {}}
"#,
    r#"exposure:
  hostPort: true
  realIpFrom: [10.0.0.1/8]
"#,
    r#"ingress:
  type: ingress
exposure:
  service: {type: LoadBalancer}
  ports: {smtp: false, submissions: false, submission: false, imaps: false, pop3s: false}
"#,
    r#"ingress:
  type: ingress
  ingress: {annotations: {'bad key!': x}}
"#,
    r#"workloads: {postfix: {replicas: 2}}
"#,
    r#"workloads: {dovecot: {replicas: 2}}
"#,
    r#"workloads: {admin: {replicas: 2}}
"#,
    r#"components: {webmail: true}
workloads: {webmail: {replicas: 2}}
"#,
    r#"exposure: {hostPort: true}
workloads: {front: {replicas: 2}}
"#,
    r#"workloads: {tika: {replicas: 2}}
"#,
    r#"workloads: {clamav: {logLevel: DEBUG}, }
components: {clamav: true}
"#,
    r#"workloads: {admin: {image: {digest: 'sha256:abc'}}}
"#,
    r#"workloads: {admin: {securityContext: {runAsUsr: 1000}}}
"#,
    r#"workloads: {admin: {securityContext: {privileged: maybe}}}
"#,
    r#"workloads: {admin: {extraEnv: {RECAPTCHA_PRIVATE_KEY: {secretKeyRef: {name: r, key: k}, configMapKeyRef: {name: r, key: k}}}}}
"#,
    r#"workloads: {admin: {extraEnv: {RECAPTCHA_PRIVATE_KEY: {secretKeyRef: {name: Bad_Name, key: k}}}}}
"#,
    r#"workloads: {admin: {extraEnv: {RECAPTCHA_PRIVATE_KEY: {secretKeyRef: {name: r, key: 'a/b'}}}}}
"#,
    r#"ingress: {type: ingress}
"#,
    r#"redis: {host: redis.cache}
"#,
    r#"database: {type: postgresql, postgresql: {host: pg.db, secretName: db}}
"#,
    r#"networkPolicies: {redis: {namespace: cache}}
"#,
    r#"networkPolicies: {edge: {namespace: traefik}}
"#,
    r#"networkPolicies: {submissionFrom: [{namespace: apps, cidrs: [10.0.0.0/8]}]}
"#,
    r#"networkPolicies: {serviceCidrs: [10.43.0.1/16]}
"#,
    r#"networkPolicies: {submissionFrom: [{namespace: Apps}]}
"#,
    r#"mailu: {relayNets: [0.0.0.0/0]}
"#,
    r#"mailu: {relayNets: ['::/0']}
"#,
    r#"mailu: {relayNets: [203.0.113.0/24]}
"#,
    r#"mailu: {relayNets: ['::ffff:10.0.0.0/104']}
"#,
    r#"exposure: {realIpFrom: [0.0.0.0/0], service: {type: LoadBalancer}}
"#,
    r#"subnet6: '2001:db8::/56'
"#,
    r#"workloads: {admin: {extraEnv: {PROXY_AUTH_WHITELIST: 10.0.0.0/8}}}
"#,
    r#"workloads: {admin: {extraEnv: {PROXY_AUTH_HEADER: X-Auth}}}
"#,
    r#"workloads: {admin: {extraEnv: {AUTH_RATELIMIT_EXEMPTION: 0.0.0.0/0}}}
"#,
    r#"workloads: {admin: {extraEnv: {DEBUG: 'True'}}}
"#,
    r#"workloads: {front: {extraEnv: {TLS_PERMISSIVE: 'true'}}}
"#,
    r#"workloads: {admin: {extraEnv: {SESSION_COOKIE_SECURE: 'false'}}}
"#,
    r#"workloads: {admin: {extraEnv: {RECAPTCHA_PRIVATE_KEY: s3cret}}}
"#,
    r#"workloads: {admin: {extraEnv: {SQLALCHEMY_DATABASE_URI: 'postgresql://u:p@db/mailu'}}}
"#,
    r#"mailu: {messageSizeLimit: 5000000}
"#,
    r#"mailu: {defaultQuota: 100Ei}
"#,
    r#"workloads: {front: {extraEnv: {WEBROOT_REDIREKT: /webmail}}}
"#,
    r#"workloads: {admin: {extraEnv: {DOMAIN: x.org}}}
"#,
    r#"workloads: {admin: {extraEnv: {INITIAL_ADMIN_PASSWORD: x}}}
"#,
    r#"workloads: {postfix: {extraEnv: {POSTFIX_MYNETWORKS: x}}}
"#,
    r#"workloads: {front: {extraEnv: {lower: x}}}
"#,
    r#"workloads: {admin: {overrides: {a.conf: x}}}
"#,
    r#"components: {fetchmail: true}
workloads: {fetchmail: {serviceAnnotations: {a.example/b: c}}}
"#,
    r#"components: {fetchmail: true}
workloads: {fetchmail: {serviceLabels: {a: b}}}
"#,
    r#"workloads: {postfix: {overrides: {'../x': y}}}
"#,
    r#"pods: {labels: {app.kubernetes.io/name: x}}
"#,
    r#"pods: {tolerations: [{key: a, operator: Exists, value: b}]}
"#,
    r#"pods: {tolerations: [{key: a, value: b, tolerationSeconds: 30}]}
"#,
    r#"workloads: {front: {topologySpreadConstraints: [{maxSkew: 1, topologyKey: 'not a key', whenUnsatisfiable: DoNotSchedule}]}}
"#,
    r#"pods: {affinity: {nodeAffinity: {requiredDuringSchedulingIgnoredDuringExecution: {nodeSelectorTerms: [{matchExpressions: [{key: a, operator: In, valuez: [b]}]}]}}}}
"#,
    r#"workloads: {admin: {affinity: {podAntiAffinity: {preferredDuringSchedulingIgnoredDuringExecution: [{weight: heavy}]}}}}
"#,
    r#"workloads: {front: {topologySpreadConstraints: [{maxSkew: 1, topologyKey: zone, whenUnsatisfiable: DoNotSchedule, labelSelector: {matchLabels: {a: b}, matchLabel: {}}}]}}
"#,
    r#"workloads: {tika: {replicas: 2147483648}}
"#,
    r#"pods: {priorityClassName: High}
"#,
    r#"images: {pullSecrets: [Reg]}
"#,
    r#"workloads: {front: {image: {tag: 'v1 '}}}
"#,
    r#"workloads: {front: {allowUnknownEnv: true}}
"#,
    r#"namespace: Mailu_NS
"#,
    r#"timezone: Europe/Berln
"#,
    r#"subnet6: fd00::1/64
"#,
    r#"subnet6: 10.0.0.0/8
"#,
    r#"clusterDomain: bad_domain
"#,
    r#"storage:
  dovecot:
    size: 50GB
"#,
    r#"storage:
  admin:
    size: abc
"#,
    r#"storage:
  storageClass: Fast_SSD
"#,
    r#"resources:
  admin:
    requests:
      memory: 1Gi
"#,
    r#"resources:
  front:
    limits:
      cpu: 10m
"#,
    r#"resources:
  dovecot:
    limits:
      cpu: one
"#,
    r#"database:
  type: postgresql
"#,
    r#"database:
  type: sqlite
  postgresql: {host: pg, secretName: pg}
"#,
    r#"database:
  type: postgresql
  postgresql: {host: pg, secretName: Bad_Name}
"#,
    r#"database:
  type: postgresql
  postgresql: {host: pg, secretName: pg, secretKeys: {username: a/b, password: p}}
"#,
    r#"database:
  type: postgresql
  postgresql: {host: 'pg host', secretName: pg}
"#,
    r#"redis:
  host: redis..svc
"#,
    r#"mailu:
  initialAccount:
    enabled: true
"#,
    r#"mailu:
  apiEnabled: true
"#,
    r#"mailu:
  initialAccount:
    enabled: true
    username: 'a b'
"#,
    r#"images:
  tag: 'v 1'
"#,
    r#"images:
  tag: 2024.06-
"#,
    r#"images:
  tag: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa
"#,
    r#"images:
  registry: GHCR.io/
"#,
    r#"tls:
  secretName: My.Cert
"#,
    r#"egress: {mode: cilium, ips: [203.0.113.10], cilium: {version: '1.18', nodeSelector: {gw: a}, egressIP: 203.0.113.10, interface: eth1}}
"#,
    r#"egress: {mode: cilium, ips: [203.0.113.10], cilium: {version: '1.16', nodeSelector: {gw: a}, sourceNodeSelector: {mail: a}}}
"#,
    r#"egress: {mode: cilium, ips: [203.0.113.10, 203.0.113.11], cilium: {version: '1.17', nodeSelector: {gw: a}, egressIP: 203.0.113.10, extraGateways: [{nodeSelector: {gw: b}, egressIP: 203.0.113.11}]}}
"#,
    r#"subnet6: fd00:42::/56
egress: {mode: cilium, ips: [203.0.113.10, '2001:db8::10'], ipv6: nodeIps, cilium: {version: '1.19', nodeSelector: {gw: a}, egressIP: '2001:db8::10'}}
"#,
    r#"subnet6: fd00:42::/56
egress: {mode: cilium, ips: [203.0.113.10, '2001:db8::10'], ipv6: nodeIps, cilium: {version: '1.19', nodeSelector: {gw: a}, egressIPv6: '2001:db8::10'}}
"#,
    r#"subnet6: fd00:42::/56
egress: {mode: cilium, ips: [203.0.113.10, '2001:db8::10'], ipv6: gateway, cilium: {version: '1.19', nodeSelector: {gw: a}}}
"#,
    r#"subnet6: fd00:42::/56
egress: {mode: cilium, ips: [203.0.113.10, '2001:db8::10'], cilium: {version: '1.20', nodeSelector: {gw: a}, egressIP: '2001:db8::10'}}
"#,
    r#"egress: {mode: cilium, ips: [203.0.113.10], cilium: {version: '1.18'}}
"#,
    r#"egress: {mode: cilium, ips: [203.0.113.10], cilium: {version: '1.18', nodeSelector: {}}}
"#,
    r#"egress: {mode: cilium, ips: [203.0.113.10, 203.0.113.11], cilium: {version: '1.18', nodeSelector: {gw: a}, egressIP: 203.0.113.10, extraGateways: [{nodeSelector: {gw: b}}]}}
"#,
    r#"egress: {mode: cilium, ips: [203.0.113.10, 203.0.113.11], cilium: {version: '1.18', nodeSelector: {gw: a}}}
"#,
    r#"egress: {mode: cilium, ips: [203.0.113.10], cilium: {version: '1.18', nodeSelector: {gw: a}, egressIP: 198.51.100.7}}
"#,
    r#"egress: {mode: cilium, ips: [203.0.113.10], cilium: {version: '1.18', nodeSelector: {gw: a}, egressIP: 203.0.113.10, extraGateways: [{nodeSelector: {gw: b}, interface: eth1}]}}
"#,
    r#"egress: {mode: cilium, ips: [203.0.113.10], cilium: {version: '1.18', nodeSelector: {gw: a}, interface: 'eth 1'}}
"#,
    r#"egress: {mode: cilium, ips: [203.0.113.10], cilium: {version: '1.15', nodeSelector: {gw: a}}}
"#,
    r#"egress: {mode: cilium, ips: [203.0.113.10], cilium: {version: '1.21', nodeSelector: {gw: a}}}
"#,
    r#"egress: {mode: cilium, ips: [203.0.113.10], cilium: {version: 1.20, nodeSelector: {gw: a}}}
"#,
    r#"egress: {mode: cilium, ips: [203.0.113.10]}
"#,
    r#"egress: {mode: cilium, ips: [203.0.113.10], cilium: {version: '1.17', nodeSelector: {gw: a}, sourceNodeSelector: {mail: a}}}
"#,
    r#"egress: {mode: static, ips: [10.42.7.7]}
"#,
    r#"networkPolicies: {serviceCidrs: [10.43.0.0/16]}
egress: {mode: static, ips: [10.43.0.99]}
"#,
    r#"egress: {mode: static, ips: [203.0.113.0/24]}
"#,
    r#"egress: {mode: static, ips: [203.0.113.10, 203.0.113.10]}
"#,
    r#"egress: {mode: nodeIps}
"#,
    r#"egress: {mode: static}
"#,
    r#"egress: {ips: [203.0.113.10]}
"#,
    r#"egress: {mode: static, ips: [203.0.113.10, '2001:db8::10']}
"#,
    r#"subnet6: fd00:42::/56
egress: {mode: static, ips: ['2001:db8::10']}
"#,
    r#"egress: {mode: cilium, ips: [203.0.113.10, 203.0.113.11], cilium: {version: '1.18', nodeSelector: {gw: a}, egressIP: 203.0.113.10, extraGateways: [{nodeSelector: {gw: b}, egressIP: 203.0.113.10}]}}
"#,
    r#"egress: {mode: cilium, ips: [203.0.113.10], cilium: {version: '1.18', nodeSelector: {gw: a}, authorizeNodeIps: ['2001:db8::7']}}
"#,
    r#"subnet6: fd00:42::/56
egress: {mode: static, ips: [203.0.113.10]}
"#,
    r#"subnet6: fd00:42::/56
egress: {mode: cilium, ips: [203.0.113.10, '2001:db8::10'], cilium: {version: '1.18', nodeSelector: {gw: a}}}
"#,
    r#"subnet6: fd00:42::/56
egress: {mode: nodeIps, ips: [203.0.113.10]}
"#,
    r#"subnet6: fd00:42::/56
egress: {mode: static, ips: [203.0.113.10, '2001:db8::10'], ipv6: disable}
"#,
    r#"egress: {mode: static, ips: [203.0.113.10], ipv6: gateway}
"#,
    r#"subnet6: fd00:42::/56
egress: {mode: relay, relay: {host: smtp.relay.example}, ipv6: nodeIps}
"#,
    r#"egress: {mode: relay, relay: {port: 587}}
"#,
    r#"egress: {mode: relay}
"#,
    r#"mailu: {relay: {host: smtp.relay.example}}
"#,
    r#"egress: {relay: {host: smtp.relay.example}}
"#,
    r#"egress: {mode: relay, relay: {host: smtp.relay.example, secretName: Relay}}
"#,
    r#"egress: {mode: relay, relay: {host: smtp.relay.example}, ips: [203.0.113.10]}
"#,
    r#"egress: {heloName: out.example.com}
"#,
    r#"egress: {mode: static, ips: [203.0.113.10], heloName: 'out example'}
"#,
    r#"subnet6: fd00:42::/56
egress: {mode: static, ips: [203.0.113.10], ipv6: disable}
workloads: {postfix: {overrides: {postfix.master: "smtp/unix = smtp unix - - n - - smtp -o smtp_bind_address6=::1\n"}}}
"#,
    r#"egress: {mode: static, ips: [203.0.113.10]}
workloads: {postfix: {overrides: {postfix.cf: "smtp_helo_name=mx.example.com\n"}}}
"#,
    r#"egress: {mode: relay, relay: {host: smtp.relay.example, port: 465}}
workloads: {postfix: {overrides: {postfix.cf: "default_transport = smtp\n"}}}
"#,
    r#"egress: {mode: relay, relay: {host: smtp.relay.example, port: 465}}
workloads: {postfix: {overrides: {postfix.master: "relaysmtps/unix = relaysmtps unix - - n - - smtp\n"}}}
"#,
    r#"egress: {mode: static, ips: [203.0.113.10], components: [fetchmail]}
"#,
    r#"egress: {mode: static, ips: [203.0.113.10], components: [postfix]}
"#,
    r#"egress: {mode: static, ips: [203.0.113.10], nodeSelector: {pool: egress}}
workloads: {postfix: {nodeSelector: {pool: mail}}}
"#,
    r#"egress: {mode: none, nodeSelector: {pool: egress}}
"#,
    r#"egress: {mode: ovn, ips: [203.0.113.10], ipSource: nodeIp}
"#,
    r#"egress: {mode: static, ips: [203.0.113.10], ipSource: floatingIp}
"#,
    r#"egress: {mode: antrea, ips: [203.0.113.10], antrea: {nodeSelector: {a: b}, externalIPPool: pool}}
"#,
    r#"egress: {mode: antrea, ips: [203.0.113.10, 203.0.113.11]}
"#,
    r#"egress: {mode: antrea, ips: [203.0.113.10], ipSource: nodeIp, antrea: {nodeSelector: {a: b}}}
"#,
    r#"components:
  postfix: false
"#,
    r#"webmail:
  roundcubePlugins: [archive]
"#,
    r#"components: {webmail: true}
mailu: {webmailType: snappymail}
webmail:
  roundcubeDatabase: {host: pg, secretName: rc}
"#,
    r#"components: {webmail: true}
webmail:
  roundcubeDatabase: {secretName: rc}
"#,
    r#"components: {webmail: true}
webmail:
  roundcubePlugins: ['bad plugin']
"#,
    r#"resolver: {serviceIP: 10.43.0}
"#,
    r#"components: {resolver: false}
"#,
    r#"components: {clamav: true}
storage: {clamav: {existingClaim: old}}
"#,
    r#"storage: {admin: {existingClaim: old, size: 1Gi}}
"#,
    r#"storage: {admin: {accessModes: []}}
"#,
    r#"mailu: {fullTextSearch: [english]}
"#,
    r#"egress: {mode: relay, relay: {host: relay}}
"#,
    r#"mailu: {relayNets: [192.168.1.1/24]}
"#,
    r#"mailu: {rateLimits: {message: 200 per day}}
"#,
    r#"mailu: {recipientDelimiter: '@'}
"#,
    r#"mailu: {dmarc: {rua: 'a@b'}}
"#,
    r#"mailu: {welcome: {subject: '', body: hi}}
"#,
    r#"mailu: {defaultQuota: '1.5'}
"#,
    r#"mailu: {defaultSpamThreshold: 101}
"#,
    r#"mailu: {tlsPolicy: {outboundLevel: dane}}
"#,
    r#"mailu: {branding: {logoBackground: red}}
"#,
    r#"mailu: {branding: {website: example.com}}
"#,
    r#"mailu: {branding: {siteName: 'Mail</string><key>PayloadType</key><string>x'}}
"#,
    r#"mailu: {branding: {siteName: "Tom & Jerry"}}
"#,
    r#"mailu: {branding: {siteName: "Mail\u0001"}}
"#,
    r#"components: {webmail: true}
webmail:
  roundcubeDatabase: {host: pg, secretName: rc, database: "roundcube';system('id');//"}
"#,
    r#"components: {webmail: true}
webmail:
  roundcubeDatabase: {host: pg, secretName: rc, database: 'rc\'}
"#,
    r#"database: {type: postgresql, postgresql: {host: pg, secretName: db, database: 'mailu%2Fx'}}
"#,
    r#"dns: {domains: [example.com]}
"#,
    r#"dns: {domains: [example]}
"#,
    r#"dns: {inboundIps: [mail.example.com]}
"#,
    r#"dns: {inboundIps: [203.0.113.1, 203.0.113.1]}
"#,
    r#"dns: {dkim: {selector: 'a b'}}
"#,
    r#"dns: {dkim: {ed25519Selector: dkim}}
"#,
    r#"dns: {dkim: {secretName: Bad_Name}}
"#,
    r#"dns: {dmarc: {rua: [nobody]}}
"#,
    r#"dns: {dmarc: {policy: always}}
"#,
    r#"dns: {dmarc: {rua: [a@example.com]}}
mailu: {dmarc: {rua: b}}
"#,
    r#"dns: {tlsRpt: {rua: []}}
"#,
    r#"dns: {tlsRpt: {rua: ['https://x y']}}
"#,
    r#"dns: {mtaSts: {maxAge: 60}}
"#,
    r#"dns: {ttl: 5}
"#,
    r#"dns: {caa: ['letsencrypt org']}
"#,
    r#"dns: {mtaSts: {}}
workloads: {front: {overrides: {mailu-k8s-mta-sts.conf: x}}}
"#,
    r#"dns: {caa: [letsencrypt.org], caaParameters: {sectigo.com: {validationMethods: [dns-01]}}}
"#,
    r#"dns: {caa: [letsencrypt.org], caaParameters: {letsencrypt.org: {accountUri: 'https://acme.example/acct/1; x=y'}}}
"#,
    r#"dns: {caa: [letsencrypt.org], caaParameters: {letsencrypt.org: {accountUri: 'http://acme.example/acct/1'}}}
"#,
    r#"dns: {caa: [letsencrypt.org], caaParameters: {letsencrypt.org: {validationMethods: [http01]}}}
"#,
    r#"dns: {caaIodef: ['security at example.com']}
"#,
    r#"dns: {spfIncludes: ['_spf example']}
"#,
    r#"dns: {spfIncludes: ['_spf.example.com ip4:0.0.0.0/0']}
"#,
    r#"dns: {spfIncludes: ['%{d}.spf.example.com']}
"#,
    r#"dns: {spfIncludes: ['spf.example._com']}
"#,
    r#"dns: {spfIncludes: ['"spf.example.com']}
"#,
    // Rules the tables in src/tests.rs do not reach.
    r#"mailu: {webPaths: {admin: "admin/"}}
"#,
    r#"mailu: {webPaths: {admin: /x, api: /x}}
"#,
    r#"dns: {inboundIps: [192.168.1.10]}
"#,
    r#"dns: {dkim: {publicKeys: " "}}
"#,
    r#"ingress: {type: gatewayApi, gatewayApi: {gatewayName: gw, backendSendsProxyProtocol: true}}
exposure: {ports: {smtp: false, submissions: false, submission: false, imaps: false, pop3s: false, imap: false, pop3: false, sieve: false}}
"#,
    r#"exposure: {service: {type: LoadBalancer, loadBalancerClass: ""}}
"#,
    r#"exposure: {service: {nodePorts: {smtp: 30025}}}
"#,
    r#"exposure: {realIpHeader: "X Bad"}
"#,
    r#"tls: {flavor: letsencrypt}
exposure: {hostPort: true, daemonSet: {nodeSelector: {a: b}}}
"#,
    r#"tls: {flavor: letsencrypt, secretName: x}
exposure: {service: {type: LoadBalancer}}
"#,
    r#"tls: {notlsIsForTestingOnly: true}
"#,
    r#"tls: {flavor: mail}
exposure: {service: {type: LoadBalancer}}
"#,
    r#"egress: {mode: static, ips: [nope]}
"#,
    r#"egress: {mode: cilium, cilium: {version: "1.18", nodeSelector: {a: b}}}
"#,
    r#"subnet6: fd00:42::/56
egress: {mode: nodeIps, ips: [203.0.113.10, "2001:db8::10"], ipv6: gateway}
"#,
    r#"subnet6: fd00:42::/56
egress: {mode: static, ips: [203.0.113.10], ipv6: nodeIps}
"#,
    r#"subnet6: fd00:42::/56
egress: {mode: static, ips: [203.0.113.10], ipv6: gateway}
"#,
    r#"egress: {mode: nodeIps, ips: [203.0.113.10], ipSource: floatingIp}
"#,
    r#"egress: {mode: relay, relay: {host: smtp.example.net}, components: [rspamd]}
"#,
    r#"egress: {mode: static, ips: [203.0.113.10], components: [rspamd, rspamd]}
"#,
    r#"egress: {mode: static, ips: [203.0.113.10], nodeSelector: {}}
"#,
    r#"egress: {mode: cilium, ips: [203.0.113.10], cilium: {version: "2.0", nodeSelector: {a: b}}}
"#,
    r#"egress: {mode: cilium, ips: [203.0.113.10], cilium: {version: "1.18", nodeSelector: {a: b}, extraGateways: [{nodeSelector: {gw: g0}, interface: eth1}, {nodeSelector: {gw: g1}, interface: eth1}, {nodeSelector: {gw: g2}, interface: eth1}, {nodeSelector: {gw: g3}, interface: eth1}, {nodeSelector: {gw: g4}, interface: eth1}, {nodeSelector: {gw: g5}, interface: eth1}, {nodeSelector: {gw: g6}, interface: eth1}, {nodeSelector: {gw: g7}, interface: eth1}, {nodeSelector: {gw: g8}, interface: eth1}, {nodeSelector: {gw: g9}, interface: eth1}, {nodeSelector: {gw: g10}, interface: eth1}, {nodeSelector: {gw: g11}, interface: eth1}, {nodeSelector: {gw: g12}, interface: eth1}, {nodeSelector: {gw: g13}, interface: eth1}, {nodeSelector: {gw: g14}, interface: eth1}, {nodeSelector: {gw: g15}, interface: eth1}, {nodeSelector: {gw: g16}, interface: eth1}, {nodeSelector: {gw: g17}, interface: eth1}, {nodeSelector: {gw: g18}, interface: eth1}, {nodeSelector: {gw: g19}, interface: eth1}, {nodeSelector: {gw: g20}, interface: eth1}, {nodeSelector: {gw: g21}, interface: eth1}, {nodeSelector: {gw: g22}, interface: eth1}, {nodeSelector: {gw: g23}, interface: eth1}, {nodeSelector: {gw: g24}, interface: eth1}, {nodeSelector: {gw: g25}, interface: eth1}, {nodeSelector: {gw: g26}, interface: eth1}, {nodeSelector: {gw: g27}, interface: eth1}, {nodeSelector: {gw: g28}, interface: eth1}, {nodeSelector: {gw: g29}, interface: eth1}, {nodeSelector: {gw: g30}, interface: eth1}, {nodeSelector: {gw: g31}, interface: eth1}, {nodeSelector: {gw: g32}, interface: eth1}, {nodeSelector: {gw: g33}, interface: eth1}, {nodeSelector: {gw: g34}, interface: eth1}, {nodeSelector: {gw: g35}, interface: eth1}, {nodeSelector: {gw: g36}, interface: eth1}, {nodeSelector: {gw: g37}, interface: eth1}, {nodeSelector: {gw: g38}, interface: eth1}, {nodeSelector: {gw: g39}, interface: eth1}, {nodeSelector: {gw: g40}, interface: eth1}, {nodeSelector: {gw: g41}, interface: eth1}, {nodeSelector: {gw: g42}, interface: eth1}, {nodeSelector: {gw: g43}, interface: eth1}, {nodeSelector: {gw: g44}, interface: eth1}, {nodeSelector: {gw: g45}, interface: eth1}, {nodeSelector: {gw: g46}, interface: eth1}, {nodeSelector: {gw: g47}, interface: eth1}, {nodeSelector: {gw: g48}, interface: eth1}, {nodeSelector: {gw: g49}, interface: eth1}, {nodeSelector: {gw: g50}, interface: eth1}, {nodeSelector: {gw: g51}, interface: eth1}, {nodeSelector: {gw: g52}, interface: eth1}, {nodeSelector: {gw: g53}, interface: eth1}, {nodeSelector: {gw: g54}, interface: eth1}, {nodeSelector: {gw: g55}, interface: eth1}, {nodeSelector: {gw: g56}, interface: eth1}, {nodeSelector: {gw: g57}, interface: eth1}, {nodeSelector: {gw: g58}, interface: eth1}, {nodeSelector: {gw: g59}, interface: eth1}, {nodeSelector: {gw: g60}, interface: eth1}, {nodeSelector: {gw: g61}, interface: eth1}, {nodeSelector: {gw: g62}, interface: eth1}, {nodeSelector: {gw: g63}, interface: eth1}]}}
"#,
    r#"egress: {mode: cilium, ips: [203.0.113.10], cilium: {version: "1.18", nodeSelector: {a: b}, extraGateways: [{nodeSelector: {a: c}, egressIP: "2001:db8::10"}]}}
"#,
    r#"subnet6: fd00:42::/56
egress: {mode: cilium, ips: [203.0.113.10, "2001:db8::10"], ipv6: nodeIps, cilium: {version: "1.20", nodeSelector: {a: b}, egressIPv6: "2001:db8::10"}}
"#,
    r#"subnet6: fd00:42::/56
egress: {mode: cilium, ips: [203.0.113.10, "2001:db8::10"], ipv6: gateway, cilium: {version: "1.20", nodeSelector: {a: b}, egressIPv6: 203.0.113.10}}
"#,
    r#"subnet6: fd00:42::/56
egress: {mode: cilium, ips: [203.0.113.10, "2001:db8::10", "2001:db8::11"], ipv6: gateway, cilium: {version: "1.20", nodeSelector: {a: b}}}
"#,
    r#"egress: {mode: cilium, ips: [203.0.113.10], cilium: {version: "1.18", nodeSelector: {a: b}, authorizeNodeIps: [203.0.113.10]}}
"#,
    r#"subnet6: fd00:42::/56
egress: {mode: antrea, ips: [203.0.113.10, "2001:db8::10"], antrea: {externalIPPool: pool}}
"#,
    r#"egress: {mode: cilium, ips: [203.0.113.10], cilium: {version: "1.18", nodeSelector: {a: b}, authorizeNodeIps: [198.51.100.7]}}
"#,
    r#"networkPolicies: {enabled: false}
"#,
    r#"workloads: {rspamd: {replicas: 2}}
"#,
    r#"components: {webdav: true}
workloads: {webdav: {replicas: 2}}
"#,
    r#"components: {fetchmail: true}
workloads: {fetchmail: {replicas: 2}}
"#,
    r#"workloads: {redis: {replicas: 2}}
"#,
    r#"redis: {host: redis.example.net}
workloads: {redis: {}}
"#,
    r#"workloads: {admin: {image: {repository: "Bad/"}}}
"#,
    r#"workloads: {admin: {extraEnv: {ZZZZQQQQ: x}}}
"#,
    r#"exposure: {hostPort: true, daemonSet: {nodeSelector: {a: b}}}
workloads: {front: {replicas: 2}}
"#,
    r#"tls: {flavor: letsencrypt}
exposure: {service: {type: LoadBalancer}}
workloads: {front: {replicas: 2}}
"#,
    r#"pods: {tolerations: [{operator: Equal}]}
"#,
    r#"pods: {labels: {a: "-bad"}}
"#,
    r#"egress: {mode: cilium, ips: [203.0.113.10, 203.0.113.11], cilium: {version: "1.18", nodeSelector: {a: b}, egressIP: 203.0.113.10, extraGateways: [{nodeSelector: {}, egressIP: 203.0.113.11}, {nodeSelector: {a: c}, egressIP: 198.51.100.9}]}}
"#,
    r#"mailu: {initialAccount: {enabled: true, username: "bad user"}, recipientDelimiter: "xx", apiEnabled: true}
"#,
    r#"ingress: {type: traefik, traefik: {hostname: "bad host"}}
exposure: {realIpHeader: "X Bad"}
"#,
    r#"ingress: {type: gatewayApi}
exposure: {realIpHeader: "X Bad"}
"#,
];

/// Whole documents.
const DOCUMENTS: &[&str] = &[
    r#"domain: [unclosed
"#,
    r#""#,
    r#"# only a comment
"#,
    r#"- a
- b
"#,
    r#"just a string
"#,
    r#"a: 1
---
b: 2
"#,
    r#"domain: example.com
hostnames: []
subnet: 10.42.0.0/16
secrets: {mailuSecretKey: s}
"#,
    r#"domain: example
hostnames: [mail.example.com]
subnet: 10.42.0.0/16
secrets: {mailuSecretKey: s}
"#,
    r#"domain: example.com
hostnames: [mail.example.com, 'bad host']
subnet: 10.42.0.0/16
secrets: {mailuSecretKey: s}
"#,
    r#"domain: example.com
hostnames: [mail.example.com, MAIL.example.com]
subnet: 10.42.0.0/16
secrets: {mailuSecretKey: s}
"#,
    r#"domain: example.com
hostnames: [mail.example.com]
subnet: 0.0.0.0/0
secrets: {mailuSecretKey: s}
"#,
    r#"domain: example.com
hostnames: [mail.example.com]
subnet: 10.42.0.0/16
secrets: {mailuSecretKey: S}
"#,
    r#"domain: example.com
hostnames: [mail.example.com]
subnet: 8.8.0.0/16
secrets:
  mailuSecretKey: mailu-secret-key
resolver:
  serviceIP: 10.43.0.53
"#,
    r#"domain: example.com
hostnames: [mail.example.com]
subnet: 10.0.0.0/8
secrets:
  mailuSecretKey: mailu-secret-key
resolver:
  serviceIP: 10.43.0.53
"#,
    r#"domain: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.com
hostnames: [mail.example.com]
subnet: 10.42.0.0/16
secrets:
  mailuSecretKey: mailu-secret-key
resolver:
  serviceIP: 10.43.0.53
egress: {mode: static, ips: [203.0.113.10]}
"#,
    // Structural findings beside value findings: both come back, in file order (issue 20).
    r#"domain: example.com
hostnames: [mail.example.com]
subnet: 10.42.0.1/16
secretz:
  mailuSecretKey: s
timezone: Europe/Berln
resolver: {serviceIP: 10.43.0.53}
"#,
    r#"domain: example
hostnames: [mail.example.com]
subnet: 5
secrets: {mailuSecretKey: S}
resolver: {serviceIP: 10.43.0.53}
storage: {postfix: {size: 7}, dovecot: {size: 5GB}}
resources: {admin: {requests: {cpu: 1, memory: "256"}, limits: {cpu: null, memory: 5GB}}}
egress: {mode: cilum, ips: [203.0.113.300]}
"#,
];

fn texts() -> impl Iterator<Item = String> {
    let cases = CASES.iter().map(|extra| {
        let base = if extra.starts_with("resolver:") {
            MINIMAL.replace("resolver:\n  serviceIP: 10.43.0.53\n", "")
        } else {
            MINIMAL.to_owned()
        };
        format!("{base}{extra}")
    });
    cases.chain(DOCUMENTS.iter().map(|d| d.to_string()))
}

/// Every finding of `text`: the errors, or the warnings of a config that loads.
fn findings(text: &str) -> Vec<Diagnostic> {
    match load(text.as_bytes()) {
        Ok(loaded) => loaded.warnings,
        Err(errors) => errors,
    }
}

#[derive(Serialize)]
struct Case {
    config: String,
    findings: Vec<Diagnostic>,
}

#[test]
fn findings_are_unchanged() {
    let cases: Vec<Case> = texts()
        .map(|text| Case {
            findings: findings(&text),
            config: text.strip_prefix(MINIMAL).unwrap_or(&text).to_owned(),
        })
        .collect();
    insta::assert_yaml_snapshot!(cases);
}

/// Every path a finding names is a place in the config file: a misspelt segment would otherwise
/// go unnoticed, its line and column taken from the nearest parent that exists.
#[test]
fn every_finding_path_is_in_the_schema() {
    let schema = mailu_k8s_config::json_schema();
    for text in texts() {
        for d in findings(&text) {
            // An unknown key is by definition not in the schema; the place it was found is.
            let path = match d.code {
                mailu_k8s_config::Code::UnknownKey => parent(&d.path),
                _ => d.path.as_str(),
            };
            assert!(
                in_schema(&schema, &schema, &segments(path)),
                "`{}` is not in the schema ({d:?}) for:\n{text}",
                d.path
            );
        }
    }
}

/// `a.b[2].c` without its last segment: `a.b[2]`.
fn parent(path: &str) -> &str {
    path.rfind(['.', '[']).map_or("", |cut| &path[..cut])
}

#[derive(Debug, Clone, PartialEq)]
enum Segment {
    Key(String),
    Index,
}

/// `a.b[2].c` → `a`, `b`, index, `c`. A map key holding dots (`sectigo.com`) comes out as
/// several keys; [`in_schema`] joins them again where the schema has a map.
fn segments(path: &str) -> Vec<Segment> {
    let mut out = Vec::new();
    for part in path.split('.').filter(|p| !p.is_empty()) {
        let (key, indices) = part.split_once('[').unwrap_or((part, ""));
        if !key.is_empty() {
            out.push(Segment::Key(key.to_owned()));
        }
        out.extend(
            indices
                .split('[')
                .filter(|i| !i.is_empty())
                .map(|_| Segment::Index),
        );
    }
    out
}

fn in_schema(node: &Value, root: &Value, path: &[Segment]) -> bool {
    let node = match node.get("$ref").and_then(Value::as_str) {
        Some(r) => root
            .pointer(r.trim_start_matches('#'))
            .expect("a $ref resolves"),
        None => node,
    };
    let Some((first, rest)) = path.split_first() else {
        return true;
    };
    let branches = ["anyOf", "oneOf", "allOf"]
        .iter()
        .filter_map(|k| node.get(k).and_then(Value::as_array))
        .flatten();
    if branches.into_iter().any(|b| in_schema(b, root, path)) {
        return true;
    }
    match first {
        Segment::Index => node.get("items").is_some_and(|i| in_schema(i, root, rest)),
        Segment::Key(key) => {
            if let Some(p) = node.get("properties").and_then(|p| p.get(key)) {
                return in_schema(p, root, rest);
            }
            match node.get("additionalProperties") {
                Some(Value::Bool(true)) => true,
                // A map: its key may hold dots, so try every split.
                Some(values @ Value::Object(_)) => (1..=path.len()).any(|n| {
                    path[..n].iter().all(|s| matches!(s, Segment::Key(_)))
                        && in_schema(values, root, &path[n..])
                }),
                _ => false,
            }
        }
    }
}
