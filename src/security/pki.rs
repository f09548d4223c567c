//! The certificate authority and the certificates k2d makes on first start (rcgen, ECDSA P-256):
//! the CA, a server certificate whose SANs cover every way clients reach k2d, and a client
//! certificate for the admin. The CA is kept for good; the server certificate is re-issued from it
//! when an address is missing from its SANs or it nears expiry, so kubeconfigs stay valid.

use std::net::IpAddr;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa,
    Issuer, KeyPair, KeyUsagePurpose, PKCS_ECDSA_P256_SHA256, SerialNumber,
};
use ring::rand::{SecureRandom, SystemRandom};
use time::{Duration, OffsetDateTime};

use super::auth::{ADMIN_GROUP, ADMIN_USER, AUTHENTICATED_GROUP, User};
use super::files::{read_optional, write_private};

/// The CA's lifetime.
const CA_LIFETIME: Duration = Duration::days(3650);
/// Server and client certificates' lifetime.
const LEAF_LIFETIME: Duration = Duration::days(1825);
/// A certificate with less than this left is re-issued at start.
const RENEW_BEFORE: Duration = Duration::days(30);

/// The names every server certificate carries: how pods and clients on the host reach k2d.
pub const FIXED_SANS: &[&str] = &[
    "localhost",
    "127.0.0.1",
    "::1",
    "kubernetes",
    "kubernetes.default",
    "kubernetes.default.svc",
    "kubernetes.default.svc.cluster.local",
    // The cluster IP of the `kubernetes` Service (crate::network::KUBERNETES_SERVICE_IP), which
    // pods connect to.
    "10.96.0.1",
];

/// The credentials in the data directory, as PEM text.
pub struct Credentials {
    /// CA certificate.
    pub ca_cert: String,
    /// Server certificate.
    pub server_cert: String,
    /// Server private key.
    pub server_key: String,
    /// Admin client certificate.
    pub admin_cert: String,
    /// Admin client key.
    pub admin_key: String,
    /// Admin bearer token.
    pub admin_token: String,
}

/// File names in the data directory.
pub struct Paths {
    dir: PathBuf,
}

impl Paths {
    /// Paths inside `dir`.
    pub fn new(dir: &Path) -> Self {
        Paths {
            dir: dir.to_path_buf(),
        }
    }
    /// A file of the data directory.
    pub fn file(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }
}

fn random_bytes<const N: usize>() -> Result<[u8; N]> {
    let mut b = [0u8; N];
    SystemRandom::new()
        .fill(&mut b)
        .map_err(|_| anyhow::anyhow!("the system random generator failed"))?;
    Ok(b)
}

/// A new random admin token: 32 random bytes, hex.
pub fn new_token() -> Result<String> {
    Ok(random_bytes::<32>()?
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect())
}

fn base_params(
    common_name: &str,
    sans: Vec<String>,
    lifetime: Duration,
) -> Result<CertificateParams> {
    let mut p = CertificateParams::new(sans).context("certificate names")?;
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CommonName, common_name);
    p.distinguished_name = dn;
    let now = OffsetDateTime::now_utc();
    p.not_before = now - Duration::hours(1);
    p.not_after = now + lifetime;
    let mut serial = random_bytes::<16>()?;
    serial[0] &= 0x7f;
    p.serial_number = Some(SerialNumber::from_slice(&serial));
    Ok(p)
}

fn new_ca() -> Result<(String, String)> {
    let key = KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256)?;
    let mut p = base_params("k2d-ca", Vec::new(), CA_LIFETIME)?;
    p.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    p.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    let cert = p.self_signed(&key)?;
    Ok((cert.pem(), key.serialize_pem()))
}

fn new_leaf(
    ca_cert: &str,
    ca_key: &str,
    common_name: &str,
    organization: Option<&str>,
    sans: Vec<String>,
    usage: ExtendedKeyUsagePurpose,
) -> Result<(String, String)> {
    let ca_key = KeyPair::from_pem(ca_key).context("parsing ca.key")?;
    let issuer = Issuer::from_ca_cert_pem(ca_cert, ca_key).context("parsing ca.crt")?;
    let key = KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256)?;
    let mut p = base_params(common_name, sans, LEAF_LIFETIME)?;
    if let Some(o) = organization {
        p.distinguished_name.push(DnType::OrganizationName, o);
    }
    p.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    p.extended_key_usages = vec![usage];
    p.use_authority_key_identifier_extension = true;
    let cert = p.signed_by(&key, &issuer)?;
    Ok((cert.pem(), key.serialize_pem()))
}

/// `true` when `pem` is a certificate that names every SAN in `sans` and is not about to expire.
fn still_good(pem: &str, sans: &[String]) -> bool {
    let Ok((_, parsed)) = x509_parser::pem::parse_x509_pem(pem.as_bytes()) else {
        return false;
    };
    let Ok(cert) = parsed.parse_x509() else {
        return false;
    };
    let renew_at = (OffsetDateTime::now_utc() + RENEW_BEFORE).unix_timestamp();
    if cert.validity().not_after.timestamp() < renew_at {
        return false;
    }
    names_all(&cert, sans)
}

/// `true` when `pem` is a certificate that names every SAN in `sans` (expiry aside).
pub fn certificate_names(pem: &str, sans: &[String]) -> bool {
    let Ok((_, parsed)) = x509_parser::pem::parse_x509_pem(pem.as_bytes()) else {
        return false;
    };
    parsed.parse_x509().is_ok_and(|cert| names_all(&cert, sans))
}

fn names_all(cert: &x509_parser::certificate::X509Certificate<'_>, sans: &[String]) -> bool {
    let Ok(Some(ext)) = cert.subject_alternative_name() else {
        return sans.is_empty();
    };
    let mut have_dns = Vec::new();
    let mut have_ip = Vec::new();
    for n in &ext.value.general_names {
        match n {
            x509_parser::extensions::GeneralName::DNSName(d) => have_dns.push(d.to_string()),
            x509_parser::extensions::GeneralName::IPAddress(b) => match b.len() {
                4 => have_ip.push(IpAddr::from(<[u8; 4]>::try_from(*b).unwrap())),
                16 => have_ip.push(IpAddr::from(<[u8; 16]>::try_from(*b).unwrap())),
                _ => {}
            },
            _ => {}
        }
    }
    sans.iter().all(|s| match s.parse::<IpAddr>() {
        Ok(ip) => have_ip.contains(&ip),
        Err(_) => have_dns.iter().any(|d| d.eq_ignore_ascii_case(s)),
    })
}

/// Every SAN the server certificate needs: the fixed names, the host name, every local address
/// and the advertise addresses, without duplicates.
pub fn server_sans(
    host_name: Option<String>,
    local_addresses: &[IpAddr],
    advertise: &[String],
) -> Vec<String> {
    let mut sans: Vec<String> = FIXED_SANS.iter().map(|s| s.to_string()).collect();
    sans.extend(host_name.filter(|h| !h.is_empty()));
    sans.extend(local_addresses.iter().map(IpAddr::to_string));
    sans.extend(advertise.iter().cloned());
    let mut seen = std::collections::HashSet::new();
    sans.retain(|s| seen.insert(s.to_ascii_lowercase()));
    sans
}

/// Loads the credentials from the data directory, creating or renewing what is missing.
pub fn ensure(dir: &Path, sans: &[String]) -> Result<Credentials> {
    let paths = Paths::new(dir);
    let read = |n: &str| read_optional(&paths.file(n));
    let (ca_cert, ca_key, fresh_ca) = match (read("ca.crt")?, read("ca.key")?) {
        (Some(c), Some(k)) => (c, k, false),
        _ => {
            let (c, k) = new_ca()?;
            write_private(&paths.file("ca.key"), k.as_bytes())?;
            write_private(&paths.file("ca.crt"), c.as_bytes())?;
            tracing::info!("created a new certificate authority in {}", dir.display());
            (c, k, true)
        }
    };
    let (server_cert, server_key) = match (read("server.crt")?, read("server.key")?) {
        (Some(c), Some(k)) if !fresh_ca && still_good(&c, sans) => (c, k),
        _ => {
            let (c, k) = new_leaf(
                &ca_cert,
                &ca_key,
                "k2d",
                None,
                sans.to_vec(),
                ExtendedKeyUsagePurpose::ServerAuth,
            )?;
            write_private(&paths.file("server.key"), k.as_bytes())?;
            write_private(&paths.file("server.crt"), c.as_bytes())?;
            tracing::info!("issued the server certificate for {}", sans.join(", "));
            (c, k)
        }
    };
    let (admin_cert, admin_key) = match (read("admin.crt")?, read("admin.key")?) {
        (Some(c), Some(k)) if !fresh_ca && still_good(&c, &[]) => (c, k),
        _ => {
            let (c, k) = new_leaf(
                &ca_cert,
                &ca_key,
                ADMIN_USER,
                Some(ADMIN_GROUP),
                Vec::new(),
                ExtendedKeyUsagePurpose::ClientAuth,
            )?;
            write_private(&paths.file("admin.key"), k.as_bytes())?;
            write_private(&paths.file("admin.crt"), c.as_bytes())?;
            (c, k)
        }
    };
    let admin_token = match read("token")?
        .map(|t| t.trim().to_string())
        .filter(|t| !t.is_empty())
    {
        Some(t) => t,
        None => {
            let t = new_token()?;
            write_private(&paths.file("token"), format!("{t}\n").as_bytes())?;
            t
        }
    };
    Ok(Credentials {
        ca_cert,
        server_cert,
        server_key,
        admin_cert,
        admin_key,
        admin_token,
    })
}

/// The user a verified client certificate names: CN as the user, O as groups (plus
/// `system:authenticated`).
pub fn certificate_user(der: &[u8]) -> Option<User> {
    let (_, cert) = x509_parser::parse_x509_certificate(der).ok()?;
    let subject = cert.subject();
    let name = subject
        .iter_common_name()
        .next()?
        .as_str()
        .ok()?
        .to_string();
    let mut groups: Vec<String> = subject
        .iter_organization()
        .filter_map(|o| o.as_str().ok())
        .map(str::to_string)
        .collect();
    groups.push(AUTHENTICATED_GROUP.to_string());
    Some(User { name, groups })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_start_creates_and_second_start_keeps() {
        let dir = std::env::temp_dir().join(format!("k2d-pki-{}", std::process::id()));
        super::super::files::ensure_private_dir(&dir).unwrap();
        let sans = server_sans(
            Some("edge-1".into()),
            &["10.1.2.3".parse().unwrap()],
            &["k2d.example".into()],
        );
        let a = ensure(&dir, &sans).unwrap();
        assert!(still_good(&a.server_cert, &sans));
        assert!(!still_good(&a.server_cert, &["other.example".to_string()]));
        let b = ensure(&dir, &sans).unwrap();
        assert_eq!(
            (
                a.ca_cert.clone(),
                a.server_cert.clone(),
                a.admin_token.clone()
            ),
            (b.ca_cert, b.server_cert, b.admin_token)
        );
        // A new address re-issues the server certificate from the same CA.
        let mut more = sans.clone();
        more.push("192.0.2.7".into());
        let c = ensure(&dir, &more).unwrap();
        assert_eq!(a.ca_cert, c.ca_cert);
        assert_ne!(a.server_cert, c.server_cert);
        assert!(still_good(&c.server_cert, &more));
        let (_, pem) = x509_parser::pem::parse_x509_pem(c.admin_cert.as_bytes()).unwrap();
        let user = certificate_user(&pem.contents).unwrap();
        assert_eq!(user.name, ADMIN_USER);
        assert_eq!(user, User::admin());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
