//! `twinlog token new`: a fresh bearer token, and the auth file stanza that accepts it.

use std::process::ExitCode;

use crate::http::auth::{sha256, AuthFile, Role, TokenEntry};

/// Prints the token on stderr, where only the person running the command sees it, and its stanza
/// on stdout, so that `twinlog token new … >> auth.toml` never writes the token into the file.
pub fn new(name: String, role: Role) -> anyhow::Result<ExitCode> {
    let token = hex::encode(rand::random::<[u8; 32]>());
    let file = AuthFile {
        tokens: vec![TokenEntry {
            name,
            role,
            sha256: hex::encode(sha256(&token)),
        }],
    };
    eprintln!("token: {token}");
    print!("{}", toml::to_string(&file)?);
    Ok(ExitCode::SUCCESS)
}
