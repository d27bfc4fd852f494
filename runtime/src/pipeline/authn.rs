//! Authentication: who is asking. Each authenticator looks at the request
//! and either recognises a user, finds no credentials of its kind, or
//! rejects what it found. Client certificates (verified against the
//! cluster CA during the TLS handshake) come first; bearer tokens plug in
//! here later.

use std::collections::BTreeMap;
use std::sync::{Arc, OnceLock};

use axum::http::request::Parts;
use rustls::pki_types::CertificateDer;

/// The authenticated user, as upstream's `user.Info`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct UserInfo {
    pub name: String,
    pub uid: String,
    pub groups: Vec<String>,
    pub extra: BTreeMap<String, Vec<String>>,
}

/// Group every authenticated user belongs to.
pub const AUTHENTICATED_GROUP: &str = "system:authenticated";

/// The outcome of one authenticator.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Authentication {
    User(UserInfo),
    /// Nothing this authenticator understands; ask the next one.
    NoCredentials,
    /// Credentials were present but are not valid: 401 without asking on.
    Rejected(String),
}

/// Recognises users from one kind of credential.
pub trait Authenticator: Send + Sync {
    fn authenticate(&self, request: &Parts) -> Authentication;
}

/// The client certificate chain the TLS handshake verified, attached to
/// every request of the connection. Clones share the chain and what
/// [`ClientCertificates`] read from it, so that the certificate is parsed
/// once per connection instead of once per request.
#[derive(Clone, Debug, Default)]
pub struct PeerCertificates(Arc<PeerChain>);

#[derive(Debug, Default)]
struct PeerChain {
    chain: Vec<CertificateDer<'static>>,
    identity: OnceLock<Authentication>,
}

impl PeerCertificates {
    /// The chain as the handshake gave it, leaf first.
    pub fn new(chain: Vec<CertificateDer<'static>>) -> PeerCertificates {
        PeerCertificates(Arc::new(PeerChain {
            chain,
            identity: OnceLock::new(),
        }))
    }
}

/// Users from client certificates: the subject's common name is the user
/// name and its organizations are the groups, as upstream's x509
/// authenticator reads them.
pub struct ClientCertificates;

impl Authenticator for ClientCertificates {
    fn authenticate(&self, request: &Parts) -> Authentication {
        let Some(peer) = request.extensions.get::<PeerCertificates>() else {
            return Authentication::NoCredentials;
        };
        let peer = &peer.0;
        peer.identity
            .get_or_init(|| identify(peer.chain.first()))
            .clone()
    }
}

/// The user a leaf certificate names.
fn identify(leaf: Option<&CertificateDer<'static>>) -> Authentication {
    let Some(leaf) = leaf else {
        return Authentication::NoCredentials;
    };
    let Ok((_, cert)) = x509_parser::parse_x509_certificate(leaf.as_ref()) else {
        return Authentication::Rejected("client certificate cannot be parsed".to_owned());
    };
    let subject = cert.subject();
    let Some(name) = subject
        .iter_common_name()
        .next()
        .and_then(|cn| cn.as_str().ok())
    else {
        return Authentication::Rejected("client certificate has no common name".to_owned());
    };
    let mut groups: Vec<String> = subject
        .iter_organization()
        .filter_map(|o| o.as_str().ok().map(str::to_owned))
        .collect();
    groups.push(AUTHENTICATED_GROUP.to_owned());
    Authentication::User(UserInfo {
        name: name.to_owned(),
        groups,
        ..UserInfo::default()
    })
}

/// Asks each authenticator in turn.
pub struct Authenticators(pub Vec<Box<dyn Authenticator>>);

impl Authenticators {
    /// The user behind the request, or why there is none (for the 401 log line).
    pub fn authenticate(&self, request: &Parts) -> Result<UserInfo, String> {
        for authenticator in &self.0 {
            match authenticator.authenticate(request) {
                Authentication::User(user) => return Ok(user),
                Authentication::NoCredentials => continue,
                Authentication::Rejected(why) => return Err(why),
            }
        }
        Err("no credentials".to_owned())
    }
}
