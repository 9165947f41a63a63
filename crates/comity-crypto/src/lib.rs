//! comity-crypto
