//! Card designs by hand on a tiny day: three banks whose customers pay
//! by card at each other's terminals in a circle (A → B → C → A, 100 fen
//! each). 2005's bilateral arrangements settle pair by pair; the shared
//! network's switch nets them multilaterally.

mod common;

use common::cli::{clearsim, ok};

const PAYMENTS: &str = "id,submit,sender,receiver,amount\n\
k1,10:00:00,A,B,100\n\
k2,10:30:00,B,C,100\n\
k3,11:00:00,C,A,100\n";

/// Settlement lines (`id,status,settle,delay_ms`) of one design.
fn settle(strategy: &str, openings: [i64; 3]) -> Vec<String> {
    let dir = tempfile::tempdir().expect("tmp");
    let participants = format!(
        "id,name,category,opening_balance,credit_limit\nA,a,x,{},0\nB,b,x,{},0\nC,c,x,{},0\n",
        openings[0], openings[1], openings[2]
    );
    std::fs::write(dir.path().join("p.csv"), participants).expect("write");
    std::fs::write(dir.path().join("x.csv"), PAYMENTS).expect("write");
    let path = |name: &str| dir.path().join(name).display().to_string();
    ok(&clearsim(&[
        "replay",
        "--participants",
        &path("p.csv"),
        "--payments",
        &path("x.csv"),
        "--strategy",
        strategy,
        "--cycles",
        "17:00",
        "--out",
        &path("out"),
        "-q",
    ]));
    std::fs::read_to_string(dir.path().join("out/settlements.csv"))
        .expect("settlements")
        .lines()
        .skip(1)
        .map(str::to_string)
        .collect()
}

/// With no money at all, the switch settles the whole circle (every net is
/// zero); bilateral arrangements settle nothing (each pair's debtor owes
/// 100 and has none).
#[test]
fn the_shared_switch_needs_no_liquidity_for_a_circle() {
    let all_at_five = [
        "k1,settled,17:00:00.000,25200000",
        "k2,settled,17:00:00.000,23400000",
        "k3,settled,17:00:00.000,21600000",
    ];
    assert_eq!(settle("dns", [0, 0, 0]), all_at_five);
    assert_eq!(
        settle("bilateral", [0, 0, 0]),
        ["k1,unsettled,,", "k2,unsettled,,", "k3,unsettled,,"]
    );
}

/// With 100 fen at A only, pairs in index order: (A, B) A pays 100 (A 0,
/// B 200); (A, C) C owes A 100 and has 0: stays; (B, C) B pays 100. Two of
/// three settle bilaterally; the switch settles all three.
#[test]
fn bilateral_arrangements_settle_pair_by_pair() {
    assert_eq!(
        settle("bilateral", [100, 0, 0]),
        [
            "k1,settled,17:00:00.000,25200000",
            "k2,settled,17:00:00.000,23400000",
            "k3,unsettled,,",
        ]
    );
    assert_eq!(settle("dns", [100, 0, 0]).len(), 3);
    assert!(
        settle("dns", [100, 0, 0])
            .iter()
            .all(|l| l.contains(",settled,"))
    );
}
