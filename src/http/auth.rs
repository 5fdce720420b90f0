//! Who may call: bearer tokens, known only by their SHA-256 in the auth file, compared in
//! constant time, and the role each one grants (ADT's Data Owner and Data Reader).

use std::path::{Path, PathBuf};

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::{header, Method};
use actix_web::middleware::Next;
use actix_web::web;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use super::error::{refuse_or_pass, ApiError};
use super::{openapi, ops, AppState};

/// What a token may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Everything.
    Owner,
    /// Reads, and queries.
    Reader,
}

/// One `[[tokens]]` stanza of the auth file.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TokenEntry {
    /// Shown in logs; never the token itself.
    pub name: String,
    pub role: Role,
    /// The hex SHA-256 of the bearer token.
    pub sha256: String,
}

/// The auth file: `[[tokens]]` stanzas.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuthFile {
    pub tokens: Vec<TokenEntry>,
}

/// Why the auth file was not loaded.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AuthFileError {
    #[error("cannot read the auth file {path}: {source}")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("the auth file {path} is not valid: {source}")]
    Parse {
        path: PathBuf,
        #[source]
        source: toml::de::Error,
    },
    #[error(
        "the auth file {path}: token `{name}` has sha256 `{sha256}`, which is not 64 hex digits"
    )]
    Digest {
        path: PathBuf,
        name: String,
        sha256: String,
    },
    #[error("the auth file {path} holds no tokens, so nobody could call")]
    Empty { path: PathBuf },
}

struct KnownToken {
    name: String,
    role: Role,
    sha256: [u8; 32],
}

/// The tokens the server accepts.
pub struct Tokens {
    known: Vec<KnownToken>,
}

impl Tokens {
    pub fn load(path: &Path) -> Result<Tokens, AuthFileError> {
        let text = std::fs::read_to_string(path).map_err(|source| AuthFileError::Read {
            path: path.to_owned(),
            source,
        })?;
        let file: AuthFile = toml::from_str(&text).map_err(|source| AuthFileError::Parse {
            path: path.to_owned(),
            source,
        })?;
        if file.tokens.is_empty() {
            return Err(AuthFileError::Empty {
                path: path.to_owned(),
            });
        }
        let known = file
            .tokens
            .into_iter()
            .map(|entry| {
                let sha256 = hex::decode(entry.sha256.trim())
                    .ok()
                    .and_then(|bytes| <[u8; 32]>::try_from(bytes).ok())
                    .ok_or_else(|| AuthFileError::Digest {
                        path: path.to_owned(),
                        name: entry.name.clone(),
                        sha256: entry.sha256.clone(),
                    })?;
                Ok(KnownToken {
                    name: entry.name,
                    role: entry.role,
                    sha256,
                })
            })
            .collect::<Result<_, AuthFileError>>()?;
        Ok(Tokens { known })
    }

    /// The name and role of `token`. Every known digest is compared, each in constant time, so
    /// the time taken tells nothing about which one (if any) matched, or how closely.
    fn authenticate(&self, token: &str) -> Option<(&str, Role)> {
        let digest = sha256(token);
        let mut found = None;
        for known in &self.known {
            if bool::from(known.sha256.ct_eq(&digest)) {
                found = Some((known.name.as_str(), known.role));
            }
        }
        found
    }
}

/// The SHA-256 of a token, as the auth file stores it (in hex).
pub fn sha256(token: &str) -> [u8; 32] {
    Sha256::digest(token.as_bytes()).into()
}

/// Readers may read, and query (`POST /query`); owners may do everything.
fn allows(role: Role, method: &Method, path: &str) -> bool {
    match role {
        Role::Owner => true,
        Role::Reader => {
            matches!(*method, Method::GET | Method::HEAD)
                || (method == Method::POST && path == "/query")
        }
    }
}

/// Refuses a request without a known bearer token (401) or whose token's role does not allow it
/// (403). Probes and the API description are open to all.
pub async fn authorize(
    request: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, actix_web::Error> {
    let state = request
        .app_data::<web::Data<AppState>>()
        .expect("the app carries its state");
    let open = ops::is_probe(request.path()) || request.path() == openapi::OPENAPI_PATH;
    let refusal = if let (Some(tokens), false) = (&state.tokens, open) {
        let bearer = request
            .headers()
            .get(header::AUTHORIZATION)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.split_once(' '))
            .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("Bearer"))
            .map(|(_, token)| token);
        match bearer.map(|token| tokens.authenticate(token.trim())) {
            None => Some(ApiError::unauthorized(
                "the Authorization header must carry a bearer token",
            )),
            Some(None) => Some(ApiError::unauthorized("the bearer token is not known")),
            Some(Some((name, role))) => {
                tracing::Span::current().record("caller", name);
                (!allows(role, request.method(), request.path())).then(|| {
                    ApiError::forbidden(format!(
                        "token `{name}` has role {role:?}, which may not {} {}",
                        request.method(),
                        request.path()
                    ))
                })
            }
        }
    } else {
        None
    };
    refuse_or_pass(request, next, refusal).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_load_from_hashes_and_authenticate_with_their_role() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("auth.toml");
        let file = AuthFile {
            tokens: vec![
                TokenEntry {
                    name: "ingest".into(),
                    role: Role::Owner,
                    sha256: hex::encode(sha256("secret-1")),
                },
                TokenEntry {
                    name: "dash".into(),
                    role: Role::Reader,
                    sha256: hex::encode(sha256("secret-2")),
                },
            ],
        };
        std::fs::write(&path, toml::to_string(&file).unwrap()).unwrap();
        let tokens = Tokens::load(&path).unwrap();
        assert_eq!(
            tokens.authenticate("secret-1"),
            Some(("ingest", Role::Owner))
        );
        assert_eq!(
            tokens.authenticate("secret-2"),
            Some(("dash", Role::Reader))
        );
        assert_eq!(tokens.authenticate("secret-3"), None);
        std::fs::write(
            &path,
            "[[tokens]]\nname = \"x\"\nrole = \"owner\"\nsha256 = \"abc\"\n",
        )
        .unwrap();
        assert!(matches!(
            Tokens::load(&path),
            Err(AuthFileError::Digest { .. })
        ));
    }

    #[test]
    fn readers_only_read_and_query() {
        assert!(allows(Role::Reader, &Method::GET, "/digitaltwins/a"));
        assert!(allows(Role::Reader, &Method::POST, "/query"));
        assert!(!allows(Role::Reader, &Method::PUT, "/digitaltwins/a"));
        assert!(!allows(
            Role::Reader,
            &Method::POST,
            "/digitaltwins/a/telemetry"
        ));
        assert!(allows(Role::Owner, &Method::DELETE, "/models/dtmi:a;1"));
    }
}
