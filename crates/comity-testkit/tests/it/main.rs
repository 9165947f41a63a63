//! End-to-end tests: real nodes on loopback, real HTTP, real databases, a real browser.

mod accounts;
mod api;
mod batches;
mod browser;
mod browser_security;
mod calls;
mod contract;
mod federation;
mod federation_keys;
mod intake;
mod listener;
mod resync;
mod second_factor;
mod sso;
mod transport;
