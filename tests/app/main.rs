//! The one integration-test binary: a module per area, sharing `common`.

mod common;

mod authjs_client;
mod config;
mod csrf;
mod guards;
mod health;
mod input;
mod pages;
mod signin;
mod signout;
mod signup;
