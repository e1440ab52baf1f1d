//! The payment network of a day: who pays whom and how much, as a graph.
//! Degrees and strengths, reciprocity and clustering, eigenvector
//! centrality and a core–periphery split (the k-cores), computed by
//! rustworkx-core over petgraph (docs/semantics.md, "Network figures").

use hashbrown::HashMap;
use rustworkx_core::petgraph::graph::{DiGraph, NodeIndex, UnGraph};

/// A link: (sender, receiver) and its (payments, value fen).
pub type Flow = ((u32, u32), (u64, i64));

/// The bilateral flows of a day and the network figures drawn from them.
#[derive(Clone, Debug, PartialEq)]
pub struct Network {
    /// (sender, receiver) → (payments, value fen), for every pair with a
    /// payment, sorted by sender then receiver.
    pub flows: Vec<Flow>,
    /// Participants that sent or received at least one payment.
    pub active: usize,
    /// Per participant: how many others it pays, and is paid by.
    pub out_degree: Vec<u32>,
    pub in_degree: Vec<u32>,
    /// Per participant: the value it pays, and is paid (fen).
    pub out_strength_fen: Vec<i64>,
    pub in_strength_fen: Vec<i64>,
    /// Share of links (ordered pairs with a payment) whose reverse is a
    /// link too.
    pub reciprocity: f64,
    /// Mean local clustering coefficient of the undirected graph, over the
    /// active participants with at least two neighbours.
    pub clustering: f64,
    /// Eigenvector centrality of the value-weighted graph (a bank is
    /// central when central banks pay it), scaled to a maximum of 1; `None`
    /// when the power method does not converge in 1,000 iterations.
    pub eigenvector: Option<Vec<f64>>,
    /// Per participant, its k-core number in the undirected graph.
    pub core_number: Vec<u32>,
    /// The core: the participants of the highest k-core; the others, the
    /// periphery.
    pub core: Vec<bool>,
}

impl Network {
    /// The network of `payments` (sender, receiver, amount fen) among
    /// `participants` participants.
    pub fn of(participants: usize, payments: impl Iterator<Item = (u32, u32, i64)>) -> Network {
        let mut pairs: HashMap<(u32, u32), (u64, i64)> = HashMap::new();
        for (sender, receiver, amount_fen) in payments {
            let entry = pairs.entry((sender, receiver)).or_default();
            entry.0 += 1;
            // Bounded: a day's Σ amounts fits in i64 (the parser's check).
            entry.1 = entry.1.saturating_add(amount_fen);
        }
        let mut flows: Vec<Flow> = pairs.into_iter().collect();
        flows.sort_unstable_by_key(|&(pair, _)| pair);
        let n = participants;
        let (mut out_degree, mut in_degree) = (vec![0u32; n], vec![0u32; n]);
        let (mut out_strength_fen, mut in_strength_fen) = (vec![0i64; n], vec![0i64; n]);
        for &((s, r), (_, value)) in &flows {
            out_degree[s as usize] += 1;
            in_degree[r as usize] += 1;
            out_strength_fen[s as usize] = out_strength_fen[s as usize].saturating_add(value);
            in_strength_fen[r as usize] = in_strength_fen[r as usize].saturating_add(value);
        }
        let active = (0..n).filter(|&i| out_degree[i] + in_degree[i] > 0).count();
        let linked: hashbrown::HashSet<(u32, u32)> = flows.iter().map(|&(pair, _)| pair).collect();
        let reciprocal = flows
            .iter()
            .filter(|&&((s, r), _)| linked.contains(&(r, s)))
            .count();
        let reciprocity = if flows.is_empty() {
            0.0
        } else {
            reciprocal as f64 / flows.len() as f64
        };
        let undirected = undirected(n, &flows);
        let core_number = cores(&undirected);
        let top = core_number.iter().copied().max().unwrap_or(0);
        let core = core_number.iter().map(|&k| top > 0 && k == top).collect();
        Network {
            clustering: clustering(&undirected),
            eigenvector: eigenvector(n, &flows),
            flows,
            active,
            out_degree,
            in_degree,
            out_strength_fen,
            in_strength_fen,
            reciprocity,
            core_number,
            core,
        }
    }
}

/// The undirected simple graph: an edge between two participants when
/// either pays the other.
fn undirected(n: usize, flows: &[Flow]) -> UnGraph<(), ()> {
    let mut graph = UnGraph::<(), ()>::with_capacity(n, flows.len());
    for _ in 0..n {
        graph.add_node(());
    }
    for &((s, r), _) in flows {
        // update_edge adds an edge once: a pays b and b pays a are one.
        let (a, b) = (s.min(r) as usize, s.max(r) as usize);
        graph.update_edge(NodeIndex::new(a), NodeIndex::new(b), ());
    }
    graph
}

fn cores(graph: &UnGraph<(), ()>) -> Vec<u32> {
    let numbers = rustworkx_core::connectivity::core_number(graph);
    (0..graph.node_count())
        .map(|i| numbers.get(&NodeIndex::new(i)).map_or(0, |&k| k as u32))
        .collect()
}

/// Mean local clustering: for each node with k ≥ 2 neighbours, the share
/// of its neighbour pairs that are linked.
fn clustering(graph: &UnGraph<(), ()>) -> f64 {
    let neighbours: Vec<Vec<usize>> = graph
        .node_indices()
        .map(|v| {
            let mut around: Vec<usize> = graph.neighbors(v).map(|u| u.index()).collect();
            around.sort_unstable();
            around
        })
        .collect();
    let mut sum = 0.0;
    let mut counted = 0usize;
    for around in &neighbours {
        let k = around.len();
        if k < 2 {
            continue;
        }
        let mut linked = 0usize;
        for (i, &u) in around.iter().enumerate() {
            linked += around[i + 1..]
                .iter()
                .filter(|w| neighbours[u].binary_search(w).is_ok())
                .count();
        }
        sum += linked as f64 / (k * (k - 1) / 2) as f64;
        counted += 1;
    }
    if counted == 0 {
        0.0
    } else {
        sum / counted as f64
    }
}

fn eigenvector(n: usize, flows: &[Flow]) -> Option<Vec<f64>> {
    let mut graph = DiGraph::<(), f64>::with_capacity(n, flows.len());
    for _ in 0..n {
        graph.add_node(());
    }
    for &((s, r), (_, value)) in flows {
        graph.add_edge(
            NodeIndex::new(s as usize),
            NodeIndex::new(r as usize),
            value as f64,
        );
    }
    let found: Result<Option<Vec<f64>>, std::convert::Infallible> =
        rustworkx_core::centrality::eigenvector_centrality(
            &graph,
            |edge| Ok(*edge.weight()),
            Some(1_000),
            Some(1e-9),
        );
    let vector = found.ok().flatten()?;
    let top = vector.iter().copied().fold(0.0, f64::max);
    Some(
        vector
            .iter()
            .map(|&x| if top > 0.0 { x / top } else { 0.0 })
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A triangle A → B → C → A with B ⇄ A, and D paying A once.
    /// Links: AB, BC, CA, BA, DA (5); reciprocal: AB and BA (2 of 5).
    /// Undirected: AB, BC, CA, DA. Clustering: A has B, C, D (1 linked
    /// pair of 3: 1/3), B has A, C (1), C has A, B (1), D has one
    /// neighbour (skipped): mean (1/3 + 1 + 1) / 3 = 7/9. Cores: the
    /// triangle is the 2-core, D is in the 1-core.
    #[test]
    fn a_small_network_by_hand() {
        let payments = [
            (0, 1, 10),
            (1, 2, 20),
            (2, 0, 30),
            (1, 0, 5),
            (3, 0, 1),
            (0, 1, 10),
        ];
        let network = Network::of(5, payments.into_iter());
        assert_eq!(network.flows[0], ((0, 1), (2, 20)));
        assert_eq!(network.active, 4);
        assert_eq!(network.out_degree, vec![1, 2, 1, 1, 0]);
        assert_eq!(network.in_degree, vec![3, 1, 1, 0, 0]);
        assert_eq!(network.out_strength_fen, vec![20, 25, 30, 1, 0]);
        assert_eq!(network.in_strength_fen, vec![36, 20, 20, 0, 0]);
        assert!((network.reciprocity - 0.4).abs() < 1e-12);
        assert!((network.clustering - 7.0 / 9.0).abs() < 1e-12);
        assert_eq!(network.core_number, vec![2, 2, 2, 1, 0]);
        assert_eq!(network.core, vec![true, true, true, false, false]);
        let centrality = network.eigenvector.expect("converges");
        assert_eq!(centrality.iter().copied().fold(0.0, f64::max), 1.0);
        assert!(centrality[3] < 1e-9, "nobody pays D: {}", centrality[3]);
        assert!(centrality[0] > centrality[2], "A is paid by B, C and D");
    }
}
