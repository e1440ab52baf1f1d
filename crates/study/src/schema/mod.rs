//! The saved forms of clearsim's results: every `summary.json` a command
//! writes, as versioned types of their own, converted field by field from
//! the internal types (which carry no serde). A new internal field changes
//! no file until a schema type takes it (in a new version); a file written
//! by an earlier clearsim of the same version still reads
//! (`tests/fixtures/summaries/` keeps one of each kind, read by a test).
//!
//! - [`v2`] — `clearsim.run.v2`, `clearsim.compare.v2`,
//!   `clearsim.sweep.v2` (the records inside them, the flows, days and
//!   figures).
//! - [`replay_v1`] — `clearsim.replay.v1`.
//! - [`plan_v1`] — `clearsim.plan.v1`.
//! - [`optimise_v1`] — `clearsim.optimise.v1`.

pub mod optimise_v1;
pub mod plan_v1;
pub mod replay_v1;
pub mod v2;

use serde::Serialize;
use serde::de::DeserializeOwned;

/// A type with a saved twin: converted to it to be written, and back from
/// it when read.
pub trait Save: Sized {
    type Saved: Serialize + DeserializeOwned;
    fn save(&self) -> Self::Saved;
    fn load(saved: Self::Saved) -> Self;
}

/// Values saved as they are.
macro_rules! as_is {
    ($($t:ty),*) => {
        $(impl Save for $t {
            type Saved = $t;
            fn save(&self) -> $t {
                self.clone()
            }
            fn load(saved: $t) -> $t {
                saved
            }
        })*
    };
}

as_is!(
    bool,
    u8,
    u16,
    u32,
    u64,
    usize,
    i64,
    i128,
    u128,
    f64,
    String,
    [f64; 2],
    (String, String)
);

impl<T: Save> Save for Vec<T> {
    type Saved = Vec<T::Saved>;
    fn save(&self) -> Vec<T::Saved> {
        self.iter().map(Save::save).collect()
    }
    fn load(saved: Vec<T::Saved>) -> Vec<T> {
        saved.into_iter().map(T::load).collect()
    }
}

impl<T: Save> Save for Option<T> {
    type Saved = Option<T::Saved>;
    fn save(&self) -> Option<T::Saved> {
        self.as_ref().map(Save::save)
    }
    fn load(saved: Option<T::Saved>) -> Option<T> {
        saved.map(T::load)
    }
}

/// A saved type and its internal twin, with the same fields: each field
/// converted through its own [`Save`].
macro_rules! twins {
    ($saved:ident <=> $internal:path { $($field:ident),* $(,)? }) => {
        impl $crate::schema::Save for $internal {
            type Saved = $saved;
            fn save(&self) -> $saved {
                $saved {
                    $($field: $crate::schema::Save::save(&self.$field)),*
                }
            }
            fn load(saved: $saved) -> Self {
                Self {
                    $($field: $crate::schema::Save::load(saved.$field)),*
                }
            }
        }
    };
}
pub(crate) use twins;

/// Why a file is not a summary this clearsim reads.
#[derive(Debug, thiserror::Error)]
pub enum SchemaError {
    /// Not JSON with a `schema` key.
    #[error("not a clearsim summary: {0}")]
    NotASummary(serde_json::Error),
    /// A schema this clearsim does not know.
    #[error("schema `{0}` is not a summary of this clearsim ({known})", known = KNOWN.join(", "))]
    Unknown(String),
    /// Its schema's shape does not fit.
    #[error("not a {kind} summary: {source}")]
    Shape {
        kind: &'static str,
        source: serde_json::Error,
    },
    /// It could not be written (a bug).
    #[error("cannot encode a summary: {0}")]
    Encode(serde_json::Error),
}

impl clearsim_core::Blamed for SchemaError {
    /// A file the user gave that is no summary; failing to write one is a
    /// bug.
    fn blame(&self) -> clearsim_core::Blame {
        match self {
            SchemaError::Encode(_) => clearsim_core::Blame::Bug,
            _ => clearsim_core::Blame::User,
        }
    }
}

/// Every schema this clearsim reads.
pub const KNOWN: [&str; 4] = [
    replay_v1::SCHEMA,
    v2::RUN_SCHEMA,
    v2::COMPARE_SCHEMA,
    v2::SWEEP_SCHEMA,
];

/// `value`'s saved form as `summary.json` writes it: pretty JSON and a
/// final newline.
pub fn to_json<T: Save>(value: &T) -> Result<Vec<u8>, SchemaError> {
    let mut bytes = serde_json::to_vec_pretty(&value.save()).map_err(SchemaError::Encode)?;
    bytes.push(b'\n');
    Ok(bytes)
}

/// `T` read back from its saved form's JSON.
pub fn from_json<T: Save>(bytes: &[u8]) -> Result<T, serde_json::Error> {
    Ok(T::load(serde_json::from_slice(bytes)?))
}

/// A summary read back: its internal form, by its schema.
pub enum Summary {
    Replay(Box<crate::replay::ReplaySummary>),
    Run(Box<crate::summary::RunSummary>),
    Compare(Box<crate::summary::CompareSummary>),
    Sweep(Box<crate::summary::SweepSummary>),
}

/// Reads a summary of any kind this clearsim reads from its bytes (parsed
/// from the bytes, not a JSON value: sums are 128-bit integers).
pub fn read(bytes: &[u8]) -> Result<Summary, SchemaError> {
    #[derive(serde::Deserialize)]
    struct Schema {
        schema: String,
    }
    let schema: Schema = serde_json::from_slice(bytes).map_err(SchemaError::NotASummary)?;
    fn typed<T: Save>(bytes: &[u8], kind: &'static str) -> Result<Box<T>, SchemaError> {
        let saved: T::Saved =
            serde_json::from_slice(bytes).map_err(|source| SchemaError::Shape { kind, source })?;
        Ok(Box::new(T::load(saved)))
    }
    Ok(match schema.schema.as_str() {
        replay_v1::SCHEMA => Summary::Replay(typed(bytes, "replay")?),
        v2::RUN_SCHEMA => Summary::Run(typed(bytes, "run")?),
        v2::COMPARE_SCHEMA => Summary::Compare(typed(bytes, "compare")?),
        v2::SWEEP_SCHEMA => Summary::Sweep(typed(bytes, "sweep")?),
        other => return Err(SchemaError::Unknown(other.to_string())),
    })
}
