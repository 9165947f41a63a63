//! comity-testkit
