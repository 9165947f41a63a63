//! End-to-end tests: real nodes on loopback, real HTTP, real databases, a real browser.

mod accounts;
mod api;
mod browser;
mod federation;
