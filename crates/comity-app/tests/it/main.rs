//! The use cases, tested without HTTP: two applications over real stores (SQLite, and
//! PostgreSQL when `COMITY_TEST_DATABASE_URL` is set) and a manual clock, with messages
//! carried between them sealed and receipted as the federation does.
//!
//! - `harness`: the two nodes, their users, and the courier between them.
//! - `lifecycle`: tables of actions, one line each, with the state reached or the refusal.
//! - `inbound`: messages arriving out of order, twice, or replayed under a new id.
//! - `legal_gate`: approval against the mandatory content, refusal against the grounds.

mod harness;
mod inbound;
mod legal_gate;
mod lifecycle;
