//! The `comity` binary.
fn main() {}
