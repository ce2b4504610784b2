//! End-to-end test support: starting real peers (Mosquitto, pymodbus) and the gateway.
