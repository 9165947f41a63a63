//! comity-app
