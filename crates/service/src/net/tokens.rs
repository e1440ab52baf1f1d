//! Participants' tokens for `clearsim serve`: issued at random into a file
//! only its owner may read (mode 0600), checked in constant time.
//!
//! The file has one line per participant, `ID TOKEN`, TOKEN being 64
//! lowercase hex digits (32 random bytes from the operating system); lines
//! starting with `#` and blank lines are ignored.

use std::path::Path;

use subtle::ConstantTimeEq;

/// The longest tokens file read (a line per participant).
pub const MAX_TOKENS_FILE_BYTES: u64 = 1 << 20;
const TOKEN_BYTES: usize = 32;

#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    #[error("{path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    #[error(
        "{path}: readable by others (mode {mode:o}): a tokens file must be the owner's alone (chmod 600)"
    )]
    Exposed { path: String, mode: u32 },
    #[error("{path}, line {line}: {what}")]
    Bad {
        path: String,
        line: usize,
        what: String,
    },
    #[error("the operating system gave no random bytes: {0}")]
    Random(String),
}

/// Each participant's token, by participant index (`None`: it may not
/// connect).
#[derive(Clone, Debug, Default)]
pub struct Tokens {
    by_participant: Vec<Option<Vec<u8>>>,
}

impl Tokens {
    /// Whether `token` is participant `p`'s, compared in constant time
    /// (only the lengths, which are public, end it early).
    pub fn admits(&self, p: u32, token: &[u8]) -> bool {
        match self.by_participant.get(p as usize) {
            Some(Some(known)) => known.len() == token.len() && bool::from(known.ct_eq(token)),
            _ => false,
        }
    }

    /// Reads `path` for the roster `ids`: every line names a participant
    /// of the roster once; the file must be the owner's alone.
    pub fn load(path: &Path, ids: &[String]) -> Result<Tokens, TokenError> {
        let shown = path.display().to_string();
        let io = |source| TokenError::Io {
            path: shown.clone(),
            source,
        };
        let metadata = std::fs::metadata(path).map_err(io)?;
        refuse_exposed(&shown, &metadata)?;
        if metadata.len() > MAX_TOKENS_FILE_BYTES {
            return Err(TokenError::Bad {
                path: shown,
                line: 0,
                what: format!("larger than {MAX_TOKENS_FILE_BYTES} bytes"),
            });
        }
        let text = clearsim_model::input::read_regular_string(path).map_err(io)?;
        Tokens::parse(&shown, &text, ids)
    }

    fn parse(path: &str, text: &str, ids: &[String]) -> Result<Tokens, TokenError> {
        let mut tokens = Tokens {
            by_participant: vec![None; ids.len()],
        };
        for (n, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let bad = |what: String| TokenError::Bad {
                path: path.to_string(),
                line: n + 1,
                what,
            };
            let mut words = line.split_whitespace();
            let (Some(id), Some(token), None) = (words.next(), words.next(), words.next()) else {
                return Err(bad("expected `ID TOKEN`".into()));
            };
            let p = ids
                .iter()
                .position(|known| known == id)
                .ok_or_else(|| bad(format!("`{id}` is not a participant of the scenario")))?;
            if token.len() != 2 * TOKEN_BYTES || !token.bytes().all(|b| b.is_ascii_hexdigit()) {
                return Err(bad(format!("the token of `{id}` is not 64 hex digits")));
            }
            if tokens.by_participant[p].is_some() {
                return Err(bad(format!("`{id}` has a second token")));
            }
            tokens.by_participant[p] = Some(token.to_ascii_lowercase().into_bytes());
        }
        Ok(tokens)
    }

    /// Issues a fresh random token for each of `ids` into `path`, created
    /// with mode 0600 (replacing what was there), and returns them.
    pub fn issue(path: &Path, ids: &[String]) -> Result<Tokens, TokenError> {
        let shown = path.display().to_string();
        let mut text = String::from("# clearsim serve tokens: participant, token. Keep secret.\n");
        for id in ids {
            let mut bytes = [0u8; TOKEN_BYTES];
            getrandom::fill(&mut bytes).map_err(|e| TokenError::Random(e.to_string()))?;
            let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
            text += &format!("{id} {hex}\n");
        }
        clearsim_outset::write_file_whole(path, text.as_bytes(), 0o600).map_err(|source| {
            TokenError::Io {
                path: shown.clone(),
                source,
            }
        })?;
        Tokens::parse(&shown, &text, ids)
    }

    /// The token of participant `p`, as a client sends it.
    pub fn of(&self, p: u32) -> Option<&[u8]> {
        self.by_participant.get(p as usize)?.as_deref()
    }
}

fn refuse_exposed(path: &str, metadata: &std::fs::Metadata) -> Result<(), TokenError> {
    use std::os::unix::fs::PermissionsExt;
    let mode = metadata.permissions().mode() & 0o777;
    if mode & 0o077 != 0 {
        return Err(TokenError::Exposed {
            path: path.to_string(),
            mode,
        });
    }
    Ok(())
}

impl clearsim_core::Blamed for TokenError {
    fn blame(&self) -> clearsim_core::Blame {
        match self {
            TokenError::Random(_) => clearsim_core::Blame::Bug,
            _ => clearsim_core::Blame::User,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids() -> Vec<String> {
        vec!["A".into(), "B".into()]
    }

    #[test]
    fn issued_tokens_are_private_and_admit_only_their_owner() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("tokens");
        let issued = Tokens::issue(&path, &ids()).unwrap();
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        let loaded = Tokens::load(&path, &ids()).unwrap();
        let a = issued.of(0).unwrap();
        assert!(loaded.admits(0, a));
        assert!(!loaded.admits(1, a));
        assert!(!loaded.admits(0, &a[..63]));
        assert!(!loaded.admits(7, a));
        assert_ne!(issued.of(0), issued.of(1));
    }

    #[test]
    fn exposed_or_bad_files_are_refused_with_the_line() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("tokens");
        std::fs::write(&path, format!("A {}\n", "ab".repeat(32))).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        assert!(matches!(
            Tokens::load(&path, &ids()),
            Err(TokenError::Exposed { mode: 0o644, .. })
        ));
        let bad = Tokens::parse("t", "# x\n\nZ 00\n", &ids()).unwrap_err();
        assert_eq!(
            bad.to_string(),
            "t, line 3: `Z` is not a participant of the scenario"
        );
        let short = Tokens::parse("t", "A 00\n", &ids()).unwrap_err();
        assert!(short.to_string().contains("line 1"), "{short}");
    }
}
