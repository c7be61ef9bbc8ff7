//! Authentication: passwords, sessions, CSRF, the second factor, sudo mode, and the
//! request guards built on them.

pub mod audit;
pub mod client;
pub mod context;
pub mod csrf;
pub mod email_token;
pub mod equal_time;
pub mod form;
pub mod guards;
pub mod password;
pub mod second_factor;
pub mod session;
pub mod sign_in;
pub mod sudo;
pub mod throttle;
