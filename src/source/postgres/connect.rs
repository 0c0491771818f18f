//! Connecting to PostgreSQL as the connection string says, with TLS through rustls (the
//! `ring` provider) as its `sslmode` asks, libpq's way:
//! - `disable`: plain TCP (or the Unix socket);
//! - `prefer` (unset): TLS when the server offers it, else plain: the fall back happens only
//!   when the server answers that it has no TLS; a TLS handshake that fails is an error;
//! - `require`: TLS or nothing; like libpq without a root certificate file, the server's
//!   certificate is not checked (the connection is encrypted, not authenticated);
//! - `verify-ca`: TLS, the certificate chain checked against the system's roots (what
//!   `rustls-native-certs` loads: `/etc/ssl/certs`, or `SSL_CERT_FILE` / `SSL_CERT_DIR`);
//! - `verify-full`: that, and the certificate must name the host connected to.
//!
//! Unless the string sets them, the connection gives up after 30 s (`connect_timeout`) and
//! names itself `openphone-sync` (`application_name`, seen in `pg_stat_activity`).

use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use rustls::client::WebPkiServerVerifier;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{CertificateError, DigitallySignedStruct, SignatureScheme};
use tokio_postgres::Client;

use super::error::PgError;
use crate::config::postgres::{PostgresConfig, SslMode};

const CONNECT_TIMEOUT: Duration = Duration::from_secs(30);

/// Connects, and runs the connection on the current runtime until the client is dropped.
pub async fn connect(config: &PostgresConfig) -> Result<Client, PgError> {
    let url = &config.url;
    let mut pg =
        tokio_postgres::Config::from_str(url.expose()).map_err(|e| PgError::Refused(url.redact(&e.to_string())))?;
    if pg.get_connect_timeout().is_none() {
        pg.connect_timeout(CONNECT_TIMEOUT);
    }
    if pg.get_application_name().is_none() {
        pg.application_name("openphone-sync");
    }
    let client = if config.ssl == SslMode::Disable {
        let (client, connection) = pg.connect(tokio_postgres::NoTls).await.map_err(|e| PgError::connecting(&e, url))?;
        tokio::spawn(watch(connection));
        client
    } else {
        let tls = tokio_postgres_rustls::MakeRustlsConnect::new(tls_config(config.ssl)?);
        let (client, connection) = pg.connect(tls).await.map_err(|e| PgError::connecting(&e, url))?;
        tokio::spawn(watch(connection));
        client
    };
    Ok(client)
}

/// Drives the connection; its end is seen by the client's next call, which reports it.
async fn watch<F: Future<Output = Result<(), tokio_postgres::Error>>>(connection: F) {
    if let Err(e) = connection.await {
        tracing::debug!(error = %crate::escape::escape(&e.to_string()), "The PostgreSQL connection ended");
    }
}

fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// The rustls settings for `mode` (not `Disable`).
fn tls_config(mode: SslMode) -> Result<rustls::ClientConfig, PgError> {
    let provider = provider();
    let builder = rustls::ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| PgError::Tls(e.to_string()))?;
    let verifier: Arc<dyn ServerCertVerifier> = match mode {
        SslMode::Disable | SslMode::Prefer | SslMode::Require => Arc::new(AnyCertificate(provider)),
        SslMode::VerifyCa | SslMode::VerifyFull => {
            let webpki = WebPkiServerVerifier::builder_with_provider(Arc::new(system_roots()?), provider)
                .build()
                .map_err(|e| PgError::Tls(e.to_string()))?;
            if mode == SslMode::VerifyFull { webpki } else { Arc::new(AnyName(webpki)) }
        }
    };
    Ok(builder.dangerous().with_custom_certificate_verifier(verifier).with_no_client_auth())
}

/// The system's root certificates.
fn system_roots() -> Result<rustls::RootCertStore, PgError> {
    let found = rustls_native_certs::load_native_certs();
    let mut roots = rustls::RootCertStore::empty();
    roots.add_parsable_certificates(found.certs);
    if roots.is_empty() {
        return Err(PgError::Tls(
            "sslmode=verify-ca/verify-full needs the system's root certificates, and none were found (install ca-certificates, or set SSL_CERT_FILE)".into(),
        ));
    }
    Ok(roots)
}

/// `prefer` and `require`: any certificate (libpq's behaviour without a root file); the
/// handshake's signatures are still checked.
#[derive(Debug)]
struct AnyCertificate(Arc<CryptoProvider>);

impl ServerCertVerifier for AnyCertificate {
    fn verify_server_cert(
        &self,
        _: &CertificateDer<'_>,
        _: &[CertificateDer<'_>],
        _: &ServerName<'_>,
        _: &[u8],
        _: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.0.signature_verification_algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.0.signature_verification_algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

/// `verify-ca`: the chain checked, the name not.
#[derive(Debug)]
struct AnyName(Arc<WebPkiServerVerifier>);

impl ServerCertVerifier for AnyName {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        name: &ServerName<'_>,
        ocsp: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        match self.0.verify_server_cert(end_entity, intermediates, name, ocsp, now) {
            Err(rustls::Error::InvalidCertificate(
                CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. },
            )) => Ok(ServerCertVerified::assertion()),
            other => other,
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.0.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.0.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.supported_verify_schemes()
    }
}
