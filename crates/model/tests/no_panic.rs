//! No bytes in any input make the parser or the engine panic.

use clearsim_core::strategy::{ChannelSpec, Unwind};
use clearsim_core::time::SimTime;
use clearsim_model::input::Day;
use clearsim_model::replay::replay;
use proptest::prelude::*;

fn csvish() -> impl Strategy<Value = Vec<u8>> {
    // Mostly plausible CSV pieces, sometimes raw bytes.
    let piece = prop_oneof![
        Just(b"id,name,category,opening_balance,credit_limit\n".to_vec()),
        Just(b"id,submit,sender,receiver,amount,priority,instrument\n".to_vec()),
        Just(b"A,,,100,0\n".to_vec()),
        Just(b"B,n,c,0,9223372036854775807\n".to_vec()),
        Just(b"p,09:00:00,A,B,5,1,cheque\n".to_vec()),
        Just(b"q,16:59:59.999,B,A,9223372036854775807,255,\n".to_vec()),
        Just(b"\"".to_vec()),
        Just(b",".to_vec()),
        Just(b"\n".to_vec()),
        prop::collection::vec(any::<u8>(), 0..12),
    ];
    prop::collection::vec(piece, 0..12).prop_map(|pieces| pieces.concat())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 3000, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_bytes_never_panic(participants in csvish(), payments in csvish()) {
        let parsed = Day::parse("p.csv", &participants, "x.csv", &payments, SimTime::DEFAULT_DAY_END);
        if let Ok(day) = parsed {
            for spec in [
                ChannelSpec::rtgs(Some(1000)),
                ChannelSpec::dns(vec![SimTime::DEFAULT_DAY_END], Unwind::Latest, None),
                ChannelSpec::bilateral(vec![SimTime::DEFAULT_DAY_END]),
            ] {
                prop_assert!(replay(&day, &spec).is_ok());
            }
        }
    }
}
