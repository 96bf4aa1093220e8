//! Test harness for the language server: a stdio JSON-RPC client for the real binary and
//! fixture repos written from one string.
#![allow(dead_code, unused_imports)]

pub mod client;
pub mod fixture;

pub use client::{uri, uri_path, Client, ClientOptions};
pub use fixture::*;
