//! The Pingan gateway.
