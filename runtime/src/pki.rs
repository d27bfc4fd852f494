//! The certificates a fresh ferrokube needs, made on first start and kept
//! in `<data-dir>/pki`: a CA, the serving certificate it signs, and the
//! client certificate of the admin kubeconfig (user `admin` in group
//! `system:masters`). Later starts reuse them; leaf certificates close to
//! expiry are re-issued by the same CA, so kubeconfigs keep working.

use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, Result};
use rcgen::{
    BasicConstraints, Certificate, CertificateParams, DistinguishedName, DnType,
    ExtendedKeyUsagePurpose, IsCa, KeyPair, KeyUsagePurpose, SanType,
};

/// A certificate and its key, PEM-encoded.
#[derive(Clone, Debug)]
pub struct Pem {
    pub cert: String,
    pub key: String,
}

/// The cluster's certificates.
#[derive(Clone, Debug)]
pub struct Pki {
    pub ca: Pem,
    pub serving: Pem,
    pub admin: Pem,
}

const CA_LIFETIME: Duration = Duration::from_secs(10 * 365 * 24 * 3600);
const LEAF_LIFETIME: Duration = Duration::from_secs(365 * 24 * 3600);
/// Leaf certificates expiring sooner than this are re-issued at startup.
const RENEW_BEFORE: Duration = Duration::from_secs(30 * 24 * 3600);

impl Pki {
    /// Loads the certificates in `dir`, creating what is missing or about to
    /// expire. `hosts` are the serving certificate's names and addresses.
    pub fn load_or_create(dir: &Path, hosts: &[String]) -> Result<Pki> {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        let ca = match read_pair(dir, "ca")? {
            Some(ca) => ca,
            None => write_pair(dir, "ca", &new_ca()?)?,
        };
        let issuer_key = KeyPair::from_pem(&ca.key)
            .with_context(|| format!("reading {}", dir.join("ca.key").display()))?;
        let issuer_params = CertificateParams::from_ca_cert_pem(&ca.cert)
            .with_context(|| format!("reading {}", dir.join("ca.crt").display()))?;
        let issuer = issuer_params
            .self_signed(&issuer_key)
            .context("loading the CA")?;

        let serving = leaf(
            dir,
            "apiserver",
            || serving_params(hosts),
            &issuer,
            &issuer_key,
        )?;
        let admin = leaf(dir, "admin", admin_params, &issuer, &issuer_key)?;
        Ok(Pki { ca, serving, admin })
    }
}

fn leaf(
    dir: &Path,
    name: &str,
    params: impl Fn() -> Result<CertificateParams>,
    issuer: &Certificate,
    issuer_key: &KeyPair,
) -> Result<Pem> {
    if let Some(existing) = read_pair(dir, name)?
        && !expires_soon(&existing.cert)
            .with_context(|| format!("reading {}", path(dir, name, "crt").display()))?
    {
        return Ok(existing);
    }
    let key = KeyPair::generate().context("generating a key")?;
    let cert = params()?
        .signed_by(&key, issuer, issuer_key)
        .context("signing a certificate")?;
    write_pair(
        dir,
        name,
        &Pem {
            cert: cert.pem(),
            key: key.serialize_pem(),
        },
    )
}

fn new_ca() -> Result<Pem> {
    let mut params = CertificateParams::default();
    params.distinguished_name = name("ferrokube-ca", None);
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    validity(&mut params, CA_LIFETIME);
    let key = KeyPair::generate().context("generating the CA key")?;
    let cert = params.self_signed(&key).context("signing the CA")?;
    Ok(Pem {
        cert: cert.pem(),
        key: key.serialize_pem(),
    })
}

fn serving_params(hosts: &[String]) -> Result<CertificateParams> {
    let mut params = CertificateParams::default();
    params.distinguished_name = name("kube-apiserver", None);
    params.subject_alt_names = hosts
        .iter()
        .map(|host| match host.parse::<IpAddr>() {
            Ok(ip) => Ok(SanType::IpAddress(ip)),
            Err(_) => Ok(SanType::DnsName(
                host.clone()
                    .try_into()
                    .context("a DNS name for the serving certificate")?,
            )),
        })
        .collect::<Result<_>>()?;
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    params.key_usages = vec![
        KeyUsagePurpose::DigitalSignature,
        KeyUsagePurpose::KeyEncipherment,
    ];
    validity(&mut params, LEAF_LIFETIME);
    Ok(params)
}

fn admin_params() -> Result<CertificateParams> {
    let mut params = CertificateParams::default();
    params.distinguished_name = name("admin", Some("system:masters"));
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
    params.key_usages = vec![
        KeyUsagePurpose::DigitalSignature,
        KeyUsagePurpose::KeyEncipherment,
    ];
    validity(&mut params, LEAF_LIFETIME);
    Ok(params)
}

fn name(common_name: &str, organization: Option<&str>) -> DistinguishedName {
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CommonName, common_name);
    if let Some(org) = organization {
        dn.push(DnType::OrganizationName, org);
    }
    dn
}

fn validity(params: &mut CertificateParams, lifetime: Duration) {
    // A little slack before now tolerates clocks that disagree slightly.
    let now = time::OffsetDateTime::now_utc();
    params.not_before = now - time::Duration::hours(1);
    params.not_after = now + lifetime;
}

fn expires_soon(cert_pem: &str) -> Result<bool> {
    let (_, pem) =
        x509_parser::pem::parse_x509_pem(cert_pem.as_bytes()).context("not a PEM certificate")?;
    let cert = pem.parse_x509().context("not an X.509 certificate")?;
    let not_after = cert.validity().not_after.timestamp();
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    Ok(not_after - now < RENEW_BEFORE.as_secs() as i64)
}

fn path(dir: &Path, name: &str, ext: &str) -> PathBuf {
    dir.join(format!("{name}.{ext}"))
}

fn read_pair(dir: &Path, name: &str) -> Result<Option<Pem>> {
    let (cert_path, key_path) = (path(dir, name, "crt"), path(dir, name, "key"));
    if !cert_path.exists() || !key_path.exists() {
        return Ok(None);
    }
    let read =
        |p: &Path| std::fs::read_to_string(p).with_context(|| format!("reading {}", p.display()));
    Ok(Some(Pem {
        cert: read(&cert_path)?,
        key: read(&key_path)?,
    }))
}

fn write_pair(dir: &Path, name: &str, pem: &Pem) -> Result<Pem> {
    let (cert_path, key_path) = (path(dir, name, "crt"), path(dir, name, "key"));
    std::fs::write(&cert_path, &pem.cert)
        .with_context(|| format!("writing {}", cert_path.display()))?;
    write_private(&key_path, &pem.key)?;
    Ok(pem.clone())
}

/// Writes a private key readable by its owner only.
fn write_private(path: &Path, text: &str) -> Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)
        .with_context(|| format!("writing {}", path.display()))?;
    file.write_all(text.as_bytes())
        .with_context(|| format!("writing {}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn certificates_are_made_once_and_reused() {
        let dir = tempfile::tempdir().unwrap();
        let hosts = vec!["localhost".to_owned(), "127.0.0.1".to_owned()];
        let first = Pki::load_or_create(dir.path(), &hosts).unwrap();
        let second = Pki::load_or_create(dir.path(), &hosts).unwrap();
        assert_eq!(first.ca.cert, second.ca.cert);
        assert_eq!(first.admin.cert, second.admin.cert);

        let (_, pem) = x509_parser::pem::parse_x509_pem(first.admin.cert.as_bytes()).unwrap();
        let cert = pem.parse_x509().unwrap();
        let subject = cert.subject().to_string();
        assert!(
            subject.contains("CN=admin") && subject.contains("O=system:masters"),
            "{subject}"
        );
    }
}
