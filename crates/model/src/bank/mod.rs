//! The banks' behaviour and what it costs them: each bank's queue policy
//! (`policy.rs`: when it submits a customer's order), the banks' queues
//! over a day (`desk.rs`), and the cost model (`costs.rs`).

pub mod costs;
pub mod desk;
pub mod policy;
