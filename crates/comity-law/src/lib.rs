//! comity-law
