//! End-to-end tests: real nodes on loopback, real HTTP, real databases, a real browser.

mod api;
mod browser;
mod contract;
mod federation;
