//! How the core's types are written in saved summaries. The core carries
//! no serde; its types that a summary holds are described here, field for
//! field, so that the file format is stated in this crate.

use clearsim_core::engine::EventCounts;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// [`EventCounts`] as saved.
#[derive(Serialize, Deserialize)]
#[serde(remote = "EventCounts")]
pub struct EventCountsDef {
    pub runs: u64,
    pub runs_settling: u64,
    pub settled_by_runs: u64,
    pub settled_by_runs_value_fen: i64,
    pub released_after_runs: u64,
    pub released_after_runs_value_fen: i64,
}

#[derive(Serialize, Deserialize)]
struct Saved(#[serde(with = "EventCountsDef")] EventCounts);

/// `#[serde(with = "saved::events_list")]` for `Vec<EventCounts>`.
pub mod events_list {
    use super::*;

    pub fn serialize<S: Serializer>(list: &[EventCounts], s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(list.iter().map(|e| Saved(*e)))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<EventCounts>, D::Error> {
        Ok(Vec::<Saved>::deserialize(d)?
            .into_iter()
            .map(|s| s.0)
            .collect())
    }
}

/// `#[serde(with = "saved::events_option")]` for `Option<EventCounts>`.
pub mod events_option {
    use super::*;

    pub fn serialize<S: Serializer>(value: &Option<EventCounts>, s: S) -> Result<S::Ok, S::Error> {
        value.map(Saved).serialize(s)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<EventCounts>, D::Error> {
        Ok(Option::<Saved>::deserialize(d)?.map(|s| s.0))
    }
}
