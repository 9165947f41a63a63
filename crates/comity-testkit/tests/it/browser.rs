//! The web interface driven in headless Chromium (see the web helper).
