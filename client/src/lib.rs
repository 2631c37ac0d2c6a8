//! The API client every daemon uses (upstream's client-go plus
//! component-helpers): one way to connect, one leader election, one
//! shared informer factory, and one copy of each scheduling rule that
//! several daemons evaluate. Daemons reach the apiserver only through it.

pub mod config;
pub mod informer;
pub mod leader_election;
pub mod scheduling;
pub mod time;
