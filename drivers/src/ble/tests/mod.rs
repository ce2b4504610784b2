//! Tests of the BLE layer: published vectors, every flag combination, property tests, and the
//! replay radio driving the driver.

mod adv_vectors;
mod flags;
mod props;
mod replay;
mod sig_vectors;
mod state;
