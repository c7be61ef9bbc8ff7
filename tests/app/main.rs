//! The one integration-test binary: a module per area, sharing `common`.

mod common;

mod account;
mod account_data;
mod authjs_client;
mod binary;
mod cleanup;
mod config;
mod csrf;
mod email_signin;
mod guards;
mod health;
mod input;
mod migrations;
mod notices;
mod oauth;
mod outage;
mod outbox;
mod pages;
mod password_reset;
mod pool;
mod scale_out;
mod security_log;
mod sessions;
mod signin;
mod signout;
mod signup;
mod sudo;
mod throttle;
mod two_factor;
mod verify_email;
