//! Integration tests of the domain crate: the lifecycle run on two sides at once.

mod lifecycle;
