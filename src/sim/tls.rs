//! HTTPS for the built-in cluster, as kubeadm sets up a real one: a CA made at start (its
//! certificate goes into the written kubeconfig) and a serving certificate for the loopback
//! names and the listening address, signed by it. kubectl sends bearer tokens only over TLS.

use std::net::IpAddr;
use std::sync::Arc;

use color_eyre::Result;
use color_eyre::eyre::eyre;
use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, KeyPair, SanType};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use tokio_rustls::TlsAcceptor;

/// The simulator's CA and the acceptor serving with its certificate.
pub struct SimTls {
    /// The CA certificate, PEM (the kubeconfig's `certificate-authority-data`).
    pub ca_pem: String,
    /// Accepts TLS connections with the serving certificate.
    pub acceptor: TlsAcceptor,
}

impl SimTls {
    /// A new CA and a serving certificate for `localhost`, 127.0.0.1, ::1 and `listen_ip`.
    pub fn generate(listen_ip: IpAddr) -> Result<Self> {
        let err = |e: rcgen::Error| eyre!("making the simulator's certificates: {e}");
        let ca_key = KeyPair::generate().map_err(err)?;
        let mut ca = CertificateParams::default();
        ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca.distinguished_name
            .push(DnType::CommonName, "kubedrain-sim-ca");
        let ca_cert = ca.self_signed(&ca_key).map_err(err)?;
        let issuer = rcgen::Issuer::new(ca, ca_key);

        let key = KeyPair::generate().map_err(err)?;
        let mut params = CertificateParams::new(vec!["localhost".to_string()]).map_err(err)?;
        params
            .distinguished_name
            .push(DnType::CommonName, "kube-apiserver");
        let mut ips = vec![IpAddr::from([127, 0, 0, 1]), "::1".parse()?];
        if !listen_ip.is_unspecified() && !ips.contains(&listen_ip) {
            ips.push(listen_ip);
        }
        params
            .subject_alt_names
            .extend(ips.into_iter().map(SanType::IpAddress));
        let cert = params.signed_by(&key, &issuer).map_err(err)?;

        let chain = vec![CertificateDer::from(cert.der().to_vec())];
        let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der()));
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let mut config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()?
            .with_no_client_auth()
            .with_single_cert(chain, key)?;
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        Ok(Self {
            ca_pem: ca_cert.pem(),
            acceptor: TlsAcceptor::from(Arc::new(config)),
        })
    }
}
