pub mod admins;
pub mod audit;
pub mod auth;
pub mod companies;
pub mod domains;
pub mod groups;
pub mod system;
pub mod users;
