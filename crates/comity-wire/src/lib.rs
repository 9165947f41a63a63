//! comity-wire
