//! # Verinfer client
//!
//! What a program needs to use a Verinfer chain from Rust: the `verinfer` subcommands that talk
//! to a node (`infer`, `result`, `model register|list|…`, `host …`), the end-to-end tests, and
//! the host daemon to come.
//!
//! - [`Client`] (`chain.rs`): connects to a node, signs extrinsics as a wallet does, submits them,
//!   waits for their block to be final and reads their events; and calls the node's methods.
//! - [`api`]: the node's `models_*`, `inference_*` and `hosts_*` JSON-RPC methods as typed traits
//!   and the types they answer with. The node serves these very traits, so a client and the node
//!   cannot disagree on a field.
//!
//! Every failure a user can cause (unreachable node, bad key, refused extrinsic) is a
//! [`ClientError`] whose message is one line.

pub mod api;
mod chain;

pub use chain::{pair, Client, ClientError, Included};
